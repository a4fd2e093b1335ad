import {Args, Flags} from '@oclif/core'
import {endpointFlag} from '../cli/archive-flags.js'
import {jsonFlag, positionValue, quietFlag, reportLevel} from '../cli/args.js'
import {WalCommand} from '../cli/base.js'
import {Progress} from '../cli/progress.js'
import {renderRestore} from '../cli/render-archive.js'
import {restoreWal, RestoreResult} from '../core/archive/restore.js'
import {openTarget, parseTarget} from '../core/archive/target.js'
import {ExitCode} from '../core/errors.js'
import {safePoint} from '../core/interrupt.js'

export default class Restore extends WalCommand {
  static summary = 'Rebuild a WAL directory from an archive, whole or up to a position or a time.'
  static description = `Downloads the segments the archive's manifest lists into DIR, each checked against the manifest's size and SHA-256 before any segment name appears in DIR: a mismatch is exit 2 naming the object, and nothing is left in DIR. DIR must hold no segment (it is created, mode 0750, when missing). Segments get the mode (never group- or world-writable) and, when run as root, the owner they had when archived.

--to SEGMENT:OFFSET restores up to the record at that position: later segments are left out, and the last segment is cut after that record exactly as 'walctl recover --mode point-in-time' cuts (its header kept, zeros after the record), so Shardex opens the result. --to-time TIME restores up to the last record of the newest segment created before TIME (ISO 8601, e.g. 2026-11-24T03:10:00Z).

Exit codes: 0 restored; 2 an object does not match the manifest; 64 usage; 65 --to is not a record's position; 66 no archive, or nothing there to restore; 73 DIR holds segments or cannot be written; 74 I/O or network error.`
  static examples = [
    '<%= config.bin %> <%= command.id %> file:///mnt/backup/shardex-wal /var/lib/shardex/restored/wal',
    '<%= config.bin %> <%= command.id %> s3://backups/shardex/wal ./wal --to 42:1089',
    '<%= config.bin %> <%= command.id %> s3://backups/shardex/wal ./wal --to-time 2026-11-24T03:10:00Z',
  ]
  static exitCodes = {
    0: 'restored',
    2: 'an archived object does not match the manifest; nothing was restored',
    64: 'a bad target, position, time or flag',
    65: '--to is not where a record starts',
    66: 'no archive (no manifest), nothing to restore, no such bucket, nothing before --to-time',
    73: 'DIR holds segments, or is a link, or cannot be written',
    74: 'I/O or network error',
    129: '',
    130: '',
    143: '',
  }
  static args = {
    target: Args.string({name: 'TARGET', required: true, description: 'the archive: file:///PATH, a directory path, or s3://BUCKET/PREFIX'}),
    dir: Args.string({name: 'DIR', required: true, description: 'the WAL directory to create (it must hold no segment)'}),
  }
  static flags = {
    json: jsonFlag('what was restored, where the last segment was cut, the last record'),
    quiet: quietFlag,
    to: Flags.string({description: 'restore up to and including the record at SEGMENT:OFFSET', helpValue: 'POS', exclusive: ['to-time']}),
    'to-time': Flags.string({description: 'restore up to the last record of the newest segment created before TIME (ISO 8601)', helpValue: 'TIME', exclusive: ['to']}),
    endpoint: endpointFlag,
  }

  async run(): Promise<RestoreResult> {
    const {args, flags} = await this.parse(Restore)
    const to = flags.to === undefined ? undefined : positionValue(flags.to, 'to')
    let toTimeMs: number | undefined
    if (flags['to-time'] !== undefined) {
      toTimeMs = Date.parse(flags['to-time'])
      if (Number.isNaN(toTimeMs)) this.fail(ExitCode.USAGE, `invalid time '${flags['to-time']}' for --to-time: give ISO 8601, e.g. 2026-11-24T03:10:00Z`)
    }
    const store = await openTarget(parseTarget(args.target), {endpoint: flags.endpoint})
    let progress: Progress | undefined
    let shown = 0
    try {
      const r = await restoreWal(store, args.dir, {
        to,
        toTimeMs,
        checkpoint: () => safePoint('nothing was restored: the segments downloaded so far were temporary files, removed'),
        onProgress: (done, total) => {
          progress ??= Progress.start({label: 'restore', total: {segments: 0, bytes: total}, json: this.jsonEnabled()})
          progress.advance(done - shown)
          shown = done
        },
      })
      if (!this.jsonEnabled() && reportLevel(flags, this.jsonEnabled()) !== 'quiet') process.stdout.write(renderRestore(r))
      return r
    } finally {
      progress?.finish()
      await store.close()
    }
  }
}
