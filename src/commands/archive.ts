import * as path from 'node:path'
import {Flags} from '@oclif/core'
import {endpointFlag, partSizeValue} from '../cli/archive-flags.js'
import {jsonFlag, quietFlag, reportLevel, sizeFlagValue, walDirArg} from '../cli/args.js'
import {WalCommand} from '../cli/base.js'
import {Progress} from '../cli/progress.js'
import {renderArchive} from '../cli/render-archive.js'
import {archiveWal, ArchiveResult, pruneArchive} from '../core/archive/archive.js'
import {ArchiveMetrics, previousSuccessSeconds, renderArchiveMetrics} from '../core/archive/metrics.js'
import {openTarget, parseTarget} from '../core/archive/target.js'
import {listWal, resolveWalDir} from '../core/read/directory.js'
import {ExitCode} from '../core/errors.js'
import {writeMetricsFile} from '../core/read/metrics.js'
import {parseDuration} from '../core/format/units.js'
import {describeError} from '../cli/base.js'
import {checkInterrupt, InterruptedError, interruption} from '../core/interrupt.js'

export interface ArchiveCommandResult extends ArchiveResult {
  /** Segments removed from the archive by --prune-keep / --prune-age. */
  pruned: Array<{id: number; name: string}>
  /** Watch passes run (1 without --watch). */
  passes: number
}

export default class Archive extends WalCommand {
  static summary = 'Ship sealed segments to a directory or an S3 bucket, with a manifest; --watch keeps at it.'
  static description = `Ships every sealed segment (all but the newest, the one being written) that the target does not hold yet, oldest first. Each object is stored whole, read back and compared before the archive's manifest.json lists it, and the manifest is replaced atomically after each segment: an interrupted run (a kill, a network error, a full bucket) leaves the archive consistent and the next run completes it, with no duplicate and no gap. The WAL itself is only read.

TARGET: file:///PATH or a plain path (a local or mounted directory, created mode 0750 if missing), or s3://BUCKET/PREFIX (region and credentials from the standard AWS environment variables and shared config files; --endpoint for S3-compatible services). Objects larger than --part-size go up in parts, --concurrency at a time; --max-rate bounds the bandwidth.

The manifest lists, per segment: size, SHA-256 and CRC-32 of the object, the header's timestamps, the first and last record positions, the verdict when archived, its mode and owner, and which walctl wrote it. 'walctl verify TARGET' checks an archive, 'walctl restore TARGET DIR' rebuilds a WAL from it, 'walctl gc DIR --archived TARGET' removes only segments the archive holds.

--watch runs until SIGINT, SIGTERM or SIGHUP (exit 130, 143, 129, after the segment in flight), a pass every --interval. Exit codes: 0 done; 2 the archive and the WAL disagree (a gap); 64 usage; 65 the target is another WAL's archive; 66 no WAL or bucket; 73 the target cannot be written; 74 I/O or network error.`
  static examples = [
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --to file:///mnt/backup/shardex-wal',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --to s3://backups/shardex/wal --watch --interval 30s',
    'AWS_ACCESS_KEY_ID=minio AWS_SECRET_ACCESS_KEY=... <%= config.bin %> <%= command.id %> ./wal --to s3://wal/host1 --endpoint http://127.0.0.1:9000',
    '<%= config.bin %> <%= command.id %> ./wal --to s3://backups/wal --prune-keep 1000 --prometheus /var/lib/node_exporter/textfile/walctl_archive.prom',
  ]
  static exitCodes = {
    0: 'done: every sealed segment is archived',
    2: 'the archive and the WAL disagree: a segment is in neither (a gap)',
    64: 'a bad target, value or flag',
    65: 'the target is another WAL\'s archive (another segment size, or another segment of the same name)',
    66: 'no such WAL, no segments, no such bucket',
    73: 'the target cannot be written (a link or a file where a directory should be, permissions)',
    74: 'I/O or network error, a write refused by the bucket',
    129: '',
    130: '',
    143: '',
  }
  static args = {dir: walDirArg}
  static flags = {
    json: jsonFlag('the run: segments shipped, what the archive holds, the lag'),
    to: Flags.string({required: true, description: 'the archive: file:///PATH, a directory path, or s3://BUCKET/PREFIX', helpValue: 'TARGET'}),
    watch: Flags.boolean({description: 'keep archiving as segments seal, until interrupted'}),
    'include-current': Flags.boolean({description: 'also ship the newest segment\'s records so far, each pass it has grown: a lost host loses seconds, not a segment'}),
    interval: Flags.string({description: 'with --watch: time between passes', default: '10s', helpValue: 'DURATION'}),
    endpoint: endpointFlag,
    'max-rate': Flags.string({description: 'at most this many bytes per second in all (e.g. 20MiB)', helpValue: 'SIZE'}),
    concurrency: Flags.integer({description: 'parts of one object uploaded at once (s3://); memory is this many parts', default: 2, min: 1, max: 16}),
    'part-size': Flags.string({description: 'objects larger than this go up in parts of this size (s3://; at least 5MiB)', default: '16MiB', helpValue: 'SIZE'}),
    'prune-keep': Flags.integer({description: 'after archiving, keep only the newest N segments in the archive (never fewer than 1)', min: 1, helpValue: 'N'}),
    'prune-age': Flags.string({description: 'after archiving, remove archived segments created longer ago than DURATION (7d, 12h), never the newest', helpValue: 'DURATION'}),
    prometheus: Flags.string({description: 'write the run as Prometheus metrics (node_exporter textfile format) to FILE, replaced atomically, also when it fails', helpValue: 'FILE'}),
    quiet: quietFlag,
  }

  async run(): Promise<ArchiveCommandResult> {
    const {args, flags} = await this.parse(Archive)
    const quiet = reportLevel(flags, this.jsonEnabled()) === 'quiet'
    const target = parseTarget(flags.to)
    const intervalMs = parseDuration(flags.interval)
    if (intervalMs === undefined || intervalMs <= 0) this.fail(ExitCode.USAGE, `invalid duration '${flags.interval}' for --interval: e.g. 30s, 5m`)
    const pruneAgeMs = flags['prune-age'] === undefined ? undefined : parseDuration(flags['prune-age'])
    if (flags['prune-age'] !== undefined && pruneAgeMs === undefined) this.fail(ExitCode.USAGE, `invalid duration '${flags['prune-age']}' for --prune-age: e.g. 7d, 12h`)
    const maxRate = flags['max-rate'] === undefined ? undefined : sizeFlagValue(flags['max-rate'], 'max-rate')
    const dir = resolveWalDir(args.dir)
    if (target.kind === 'file' && path.resolve(target.dir) === dir) this.fail(ExitCode.USAGE, '--to: that is the WAL directory itself; give another directory')
    const store = await openTarget(target, {create: true, endpoint: flags.endpoint, partSize: partSizeValue(flags['part-size']), concurrency: flags.concurrency})

    const stopped = 'the archive is consistent: every segment it lists is stored whole, and the next run goes on from there'
    const checkpoint = (): void => checkInterrupt(stopped)
    const json = this.jsonEnabled()
    let failures = 0
    let passes = 0
    let result: ArchiveCommandResult | undefined
    try {
      for (;;) {
        passes++
        const progress = Progress.start({label: 'archive', total: sealedWork(dir), json: json || quiet})
        let shown = 0
        try {
          const r = await archiveWal(dir, store, {
            maxBytesPerSecond: maxRate,
            includeCurrent: flags['include-current'],
            checkpoint,
            onProgress: (done) => {
              progress.advance(done - shown)
              shown = done
            },
          })
          progress.finish()
          const pruned = flags['prune-keep'] !== undefined || pruneAgeMs !== undefined ? await pruneArchive(store, {keep: flags['prune-keep'], maxAgeMs: pruneAgeMs}) : []
          result = {...r, pruned: pruned.map((s) => ({id: s.id, name: s.name})), passes}
          this.metrics(flags.prometheus, dir, store.url, result, failures, 0)
          if (!json && !quiet && (!flags.watch || r.shipped.length > 0 || pruned.length > 0 || r.current?.shipped)) process.stdout.write(renderArchive(result))
        } catch (error) {
          progress.finish()
          failures++
          this.metrics(flags.prometheus, dir, store.url, result, failures, describeError(error).exitCode)
          // A watch survives a failed pass (a network error, a full bucket): it says so and tries again.
          if (!flags.watch || error instanceof InterruptedError) throw error
          this.note(`walctl: ${describeError(error).message}; trying again in ${flags.interval}`)
        }
        if (!flags.watch) break
        checkpoint()
        const signal = interruption(stopped)
        let timer: NodeJS.Timeout | undefined
        try {
          await Promise.race([signal.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, intervalMs)))])
        } finally {
          clearTimeout(timer)
          signal.cancel()
        }
      }
    } finally {
      await store.close()
    }
    return result!
  }

  private metrics(file: string | undefined, wal: string, target: string, r: ArchiveCommandResult | undefined, failures: number, exitCode: number): void {
    if (file === undefined) return
    const now = Date.now()
    const m: ArchiveMetrics = {
      wal,
      target,
      success: exitCode === 0,
      exitCode,
      shippedSegments: exitCode === 0 ? r?.shipped.length ?? 0 : 0,
      shippedBytes: exitCode === 0 ? r?.bytesShipped ?? 0 : 0,
      archivedSegments: r?.archived.count ?? 0,
      lagSegments: r?.lag.segments ?? 0,
      lagSeconds: r?.lag.seconds ?? 0,
      failures,
      finishedAtMs: now,
    }
    writeMetricsFile(file, renderArchiveMetrics(m, exitCode === 0 ? now / 1000 : previousSuccessSeconds(file)))
  }
}

function sealedWork(dir: string): {segments: number; bytes: number} {
  try {
    const sealed = listWal(dir).segments.slice(0, -1)
    return {segments: sealed.length, bytes: sealed.reduce((n, s) => n + s.size, 0)}
  } catch {
    return {segments: 0, bytes: 0}
  }
}
