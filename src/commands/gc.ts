import {Flags} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {Progress} from '../cli/progress.js'
import {jsonFlag, positionValue, quietFlag, refuseIneffective, reportLevel, sizeFlagValue, walDirArg} from '../cli/args.js'
import {lockWal, waitFlag} from '../cli/lock.js'
import {resolveWalDir} from '../core/read/directory.js'
import {ExitCode, WalError} from '../core/errors.js'
import {collectGarbageAsync, GcResult} from '../core/maintain/gc.js'
import {safePoint} from '../core/interrupt.js'
import {WalManager} from '../core/write/manager.js'
import {parseDuration} from '../core/format/units.js'
import {renderGc} from '../cli/render-gc.js'
import {escapeName} from '../core/fs/quote.js'
import {endpointFlag} from '../cli/archive-flags.js'
import {archivedPrefix} from '../core/archive/gc-archived.js'
import {openTarget, parseTarget} from '../core/archive/target.js'
import {listWal} from '../core/read/directory.js'

export default class Gc extends WalCommand {
  static summary = 'Remove (or archive) old segments: after a flush point, or by count, total size or age.'
  static description = `Policies, one or more:
- --upto POS, the flush point (SEGMENT:OFFSET, as append prints it): remove every segment whose records all lie before POS.
- --keep N: keep the newest N segments; alone, remove all the others.
- --max-total-size SIZE: remove the oldest segments until the WAL's segments take at most SIZE.
- --max-age DURATION: remove the oldest segments last written (file mtime) longer ago than DURATION (30m, 12h, 7d).
Combined, the larger of what --max-total-size and --max-age ask for goes, and --upto and --keep each limit it: they protect segments. Given only --upto and/or --keep, the stricter of them decides.

Safety: gc removes the oldest segments first and only contiguously, so it never leaves a gap; never the newest segment; never the segment holding --upto or any after it. It refuses, exit 2 and nothing removed, when the segments that would go are not a clean prefix: an id is missing among or after them, or a segment that stays has damage 'walctl verify' calls damaged (the older segments may be needed to recover from it). It also refuses to remove a segment that holds damage or records found only past damage (Shardex skips those on replay, so they may never have reached its index), and a segment without write permission bits (chmod a-w: what an operator protected). --force overrides these refusals.

--archive DIR moves the segments there (copy, fsync, then remove) instead of deleting them; DIR must be a real directory, not a link (exit 73). Its temporaries are walctl's own (.wal_NNNNNN.log.walctl-<pid>-<random>.tmp, created exclusively); a later gc --archive removes those an interrupted one left, and nothing else. --dry-run prints what would go and the bytes freed and changes nothing. gc takes the WAL's writer lock (exit 75 while another walctl writer holds it, unless --wait); a dry run takes none. Exit 0 also when nothing needs to go.`
  static examples = [
    '<%= config.bin %> <%= command.id %> ./wal --upto 42:1089',
    '<%= config.bin %> <%= command.id %> ./wal --keep 3 --dry-run',
    '<%= config.bin %> <%= command.id %> ./wal --max-age 7d --keep 10 --archive /backup/wal',
    '<%= config.bin %> <%= command.id %> ./wal --max-total-size 10GiB --wait 60 --json',
  ]
  static exitCodes = {
    0: 'done, or nothing needed to go',
    2: 'refused, nothing removed: the segments that would go are not a clean prefix (--force overrides)',
    64: 'no policy given, a bad value, an unknown flag',
    65: 'a segment whose size differs from the newest one\'s',
    66: 'no such directory, no segments',
    73: '--archive: the archive cannot be written',
    74: '',
    75: 'another walctl writer holds the WAL\'s lock',
    129: '',
    130: '',
    143: '',
  }
  static args = {dir: walDirArg}
  static flags = {
    json: jsonFlag('what went (or would go) and what stays, with the bytes freed'),
    quiet: quietFlag,
    upto: Flags.string({description: 'flush point SEGMENT:OFFSET: remove the segments wholly before it, never the one holding it', helpValue: 'POS'}),
    keep: Flags.integer({description: 'keep at least the newest N segments (N >= 1)', helpValue: 'N', min: 1}),
    'max-total-size': Flags.string({description: 'remove the oldest segments until all of them take at most SIZE (4096, 64MiB, 10GiB)', helpValue: 'SIZE'}),
    'max-age': Flags.string({description: 'remove the oldest segments last written longer ago than DURATION (30m, 12h, 7d, 2w)', helpValue: 'DURATION'}),
    archived: Flags.string({description: 'remove only segments this walctl archive (file:// or s3://) holds with the same SHA-256; never one not archived', helpValue: 'TARGET'}),
    endpoint: endpointFlag,
    archive: Flags.string({description: 'move the segments into DIR (copy, fsync, remove) instead of deleting them; DIR is created if missing', helpValue: 'DIR'}),
    'dry-run': Flags.boolean({char: 'n', description: 'print what would go and the bytes freed; change nothing (takes no lock, so --wait does not apply)'}),
    force: Flags.boolean({description: 'remove even when the segments are not a clean prefix (a missing id, or damage in a segment that stays), hold damage or records found past damage, or have no write permission'}),
    wait: waitFlag,
  }

  async run(): Promise<GcResult> {
    const {args, flags, metadata} = await this.parse(Gc)
    refuseIneffective(flags, metadata, ['wait'], flags['dry-run'], 'with --dry-run: a dry run takes no lock, so it never waits')
    const level = reportLevel(flags, this.jsonEnabled())
    let maxAgeMs: number | undefined
    if (flags['max-age'] !== undefined) {
      maxAgeMs = parseDuration(flags['max-age'])
      if (maxAgeMs === undefined) throw new WalError(ExitCode.USAGE, `invalid duration '${flags['max-age']}' for --max-age: e.g. 90s, 30m, 12h, 7d, 2w or 1d12h`)
    }
    const options = {
      upto: flags.upto === undefined ? undefined : positionValue(flags.upto, 'upto'),
      keep: flags.keep,
      maxTotalSize: flags['max-total-size'] === undefined ? undefined : sizeFlagValue(flags['max-total-size'], 'max-total-size'),
      maxAgeMs,
      archiveDir: flags.archive,
      archived: flags.archived === undefined ? undefined : await this.archivedCount(args.dir, flags.archived, flags.endpoint),
      dryRun: flags['dry-run'],
      force: flags.force,
    }
    if (options.upto === undefined && options.keep === undefined && options.maxTotalSize === undefined && maxAgeMs === undefined && options.archived === undefined) {
      throw new WalError(ExitCode.USAGE, 'no policy given: use --upto POS, --keep N, --max-total-size SIZE, --max-age DURATION and/or --archived TARGET')
    }
    const dir = resolveWalDir(args.dir)
    // The lock is taken before the directory is read, so that the plan still holds when it is carried out.
    const lock = options.dryRun ? undefined : await lockWal(dir, flags.wait)
    let progress: Progress | undefined
    const json = this.jsonEnabled()
    let result: GcResult
    try {
      // Opening checks that the segments agree on their size before anything is chosen.
      WalManager.open(dir)
      result = await collectGarbageAsync(dir, {
        ...options,
        onScanStart: (total) => (progress = Progress.start({label: 'gc', total, json: json || level === 'quiet'})),
        onSegmentEnd: (s) => progress?.advance(s.size, 1),
        // Between two removals: what went is a durable prefix.
        checkpoint: () => safePoint('gc stopped between two removals; the lock is released'),
      })
    } finally {
      progress?.finish()
      lock?.release()
    }
    if (!this.jsonEnabled() && level !== 'quiet') process.stdout.write(renderGc(result))
    if (result.forced.length > 0) this.note(escapeName(`walctl: --force: removed despite: ${result.forced.join('; ')}`))
    return result
  }

  /** How many of the oldest segments the archive holds with the same bytes. */
  private async archivedCount(input: string, text: string, endpoint: string | undefined): Promise<{count: number; target: string; stoppedAt?: string}> {
    const store = await openTarget(parseTarget(text), {endpoint})
    try {
      const r = await archivedPrefix(listWal(resolveWalDir(input)).segments, store)
      return {...r, target: store.url}
    } finally {
      await store.close()
    }
  }
}
