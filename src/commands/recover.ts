import {Flags} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {startWalProgress} from '../cli/progress.js'
import {jsonFlag, quietFlag, refuseIneffective, reportLevel, sizeFlagValue, walDirArg} from '../cli/args.js'
import {renderRecover, renderUndo} from '../cli/render-recover.js'
import {lockWal, waitFlag} from '../cli/lock.js'
import {checkInterrupt} from '../core/interrupt.js'
import {RECOVER_MODES, RecoverMode, RecoverResult, recoverTarget, recoverWalAsync} from '../core/repair/recover.js'
import {undoRecover, UndoResult} from '../core/repair/undo.js'

export default class Recover extends WalCommand {
  static summary = 'Repair a WAL so that it verifies clean, keeping a quarantine copy of everything it changes.'
  static description = `Modes, as RocksDB's WAL recovery modes:
  tolerate-tail  (default) repair a 'repairable' WAL: zero-fill after the last valid record of each affected segment, reset timestamps in the future. On a 'damaged' WAL it changes nothing, exits 2 and says what the other modes would keep and drop.
  point-in-time  keep every record before the first damage, cut there, and move every later segment into the quarantine.
  salvage        keep every valid record the scan finds, damage or not, rewriting damaged segments so that their records are contiguous and in order; a missing middle segment is replaced by an empty one (refused up front when more than 1000 are missing or they would not fit on the disk).

Before any byte changes, every segment to be changed or moved goes to DIR/quarantine/<UTC timestamp>/ with report.json (walctl's version, host, user, the cost counted apart, and each original's SHA-256, size, mode and owner), fsynced first. --undo QUARANTINE_DIR puts the originals of that recover back, byte for byte, after quarantining the current state the same way (so an undo can be undone); it refuses (exit 2, nothing changed) when a copy does not match its SHA-256 or the WAL was written to since in a way the undo would lose. Nothing is ever deleted. A segment without write permission is not rewritten or moved unless --force. Recover takes the WAL's writer lock (exit 75 while another walctl writer holds it, unless --wait). On SIGINT, SIGTERM or SIGHUP it stops between two steps (exit 130, 143, 129): every change made is complete, and running it again finishes the repair. Exit 0 when the WAL is clean afterwards (or already was), 1 when it changed the WAL but the WAL is still not clean, 2 when refused (nothing changed).`
  static examples = [
    '<%= config.bin %> <%= command.id %> ./wal --dry-run',
    '<%= config.bin %> <%= command.id %> ./wal',
    '<%= config.bin %> <%= command.id %> ./wal --mode salvage --json',
    '<%= config.bin %> <%= command.id %> ./wal --segment-size 1MiB',
    '<%= config.bin %> <%= command.id %> ./wal --undo ./wal/quarantine/2026-11-24T04-08-57.123Z --dry-run',
  ]
  static exitCodes = {
    0: 'the WAL verifies clean afterwards (or already did); with --dry-run: this mode would repair it',
    2: 'refused, nothing changed: this mode cannot repair the WAL (the report says what the other modes keep and drop); with --dry-run: it would refuse. --undo: a quarantined copy does not match its SHA-256, or the WAL was written to since in a way the undo would lose, or the folder is not one of this WAL\'s quarantine folders',
    64: '',
    66: 'no such directory, no segments, no such --undo folder',
    73: 'the quarantine or a rewritten segment cannot be created; a link or other non-regular file where a segment or copy should be',
    74: '',
    75: 'another walctl writer holds the WAL\'s lock',
    129: '',
    130: '',
    143: '',
  }
  static args = {dir: walDirArg}
  static flags = {
    json: jsonFlag('the plan or what was done: the verdicts before and after, records kept and dropped, the quarantine, and every mode\'s cost; with --undo, each step and the new quarantine'),
    quiet: quietFlag,
    mode: Flags.string({char: 'm', description: 'what to give up to repair the WAL', options: [...RECOVER_MODES], default: 'tolerate-tail'}),
    'dry-run': Flags.boolean({char: 'n', description: 'print the plan and change nothing (takes no lock, so --wait does not apply)'}),
    'segment-size': Flags.string({description: 'the WAL\'s segment size (e.g. 1MiB), for a WAL none of whose segments is long enough to tell it', helpValue: 'SIZE'}),
    force: Flags.boolean({description: 'also rewrite or move segments that have no write permission'}),
    wait: waitFlag,
    undo: Flags.string({description: 'put back the originals a recover (or an undo) quarantined in this folder of DIR/quarantine/', helpValue: 'QUARANTINE_DIR', exclusive: ['mode', 'segment-size', 'force']}),
  }

  async run(): Promise<RecoverResult | UndoResult> {
    const {args, flags, metadata} = await this.parse(Recover)
    refuseIneffective(flags, metadata, ['wait'], flags['dry-run'], 'with --dry-run: a dry run takes no lock, so it never waits')
    const level = reportLevel(flags, this.jsonEnabled())
    const dryRun = flags['dry-run']
    if (flags.undo !== undefined) return this.undo(args.dir, flags.undo, dryRun, flags.wait, level === 'quiet')
    const segmentSize = flags['segment-size'] === undefined ? undefined : sizeFlagValue(flags['segment-size'], 'segment-size')
    // The lock is taken before the scan, so that the plan still holds when it is carried out.
    const lock = dryRun ? undefined : await lockWal(recoverTarget(args.dir), flags.wait)
    const progress = startWalProgress('recover', args.dir, this.jsonEnabled() || level === 'quiet')
    let result: RecoverResult
    try {
      result = await recoverWalAsync(args.dir, {
        mode: flags.mode as RecoverMode,
        dryRun,
        segmentSize,
        force: flags.force,
        writerLockHeld: lock !== undefined,
        onSegmentEnd: (s) => progress.advance(s.size, 1),
        checkpoint: () => checkInterrupt(),
      })
    } finally {
      progress.finish()
      lock?.release()
    }
    process.exitCode = result.exitCode
    if (!this.jsonEnabled() && level !== 'quiet') process.stdout.write(renderRecover(result))
    if (result.refused) this.note(`walctl: ${result.dir}: recover --mode ${result.mode} refused: ${result.refused}`)
    return result
  }

  private async undo(dir: string, quarantine: string, dryRun: boolean, wait: string | undefined, quiet: boolean): Promise<UndoResult> {
    const lock = dryRun ? undefined : await lockWal(recoverTarget(dir), wait)
    let result: UndoResult
    try {
      result = await undoRecover(dir, quarantine, {dryRun, writerLockHeld: lock !== undefined, checkpoint: () => checkInterrupt()})
    } finally {
      lock?.release()
    }
    process.exitCode = result.exitCode
    if (!this.jsonEnabled() && !quiet) process.stdout.write(renderUndo(result))
    for (const w of result.warnings) this.note(`walctl: ${w}`)
    return result
  }
}
