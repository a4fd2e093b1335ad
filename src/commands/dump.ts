import {Args, Flags} from '@oclif/core'
import {ChalkInstance} from 'chalk'
import {positionValue} from '../cli/args.js'
import {WalCommand} from '../cli/base.js'
import {paint} from '../cli/color.js'
import {startWalProgress, trackSegments} from '../cli/progress.js'
import {makeRenderer} from '../cli/dump/make.js'
import {Output, PipeClosed} from '../cli/dump/output.js'
import {DATA_ENCODINGS, DataEncoding, DUMP_FORMATS, DumpFormat, DumpRenderer, RenderOptions} from '../cli/dump/renderer.js'
import {renderStats} from '../cli/dump/stats.js'
import {DumpFilter} from '../core/dump/filters.js'
import {followWal} from '../core/dump/follow.js'
import {SegmentBytes} from '../core/dump/segment-bytes.js'
import {DumpStats, StatsCollector} from '../core/dump/stats.js'
import {dumpWal, DumpResult, DumpTarget, resolveDumpTarget} from '../core/dump/walk.js'
import {ExitCode} from '../core/errors.js'
import {parseDuration} from '../core/units.js'

export type {RecordJson as DumpRecordJson, DamageJson as DumpDamageJson} from '../cli/dump/json-fields.js'

export interface DumpSummary {
  input: string
  dir: string
  segments: number
  records: number
  damaged: number
  stopped: boolean
  verdict: string
}

export default class Dump extends WalCommand {
  static summary = 'Print every record and every damaged region of a WAL directory or a single segment file.'
  static description = `A forensic dump: it reads past damage (resyncing to the next valid record), lists each damaged byte range with its kind and reason, and marks the records found only by resync. Reads only: opens nothing for writing and changes no byte or mtime, so it works on read-only copies, on a segment file copied out of its directory, on a file shorter than its header and on an empty file.

Formats: table (the default at a terminal) shows each segment's header field by field, then a row per record or damaged region; jsonl (the default when piped) writes one object a line, a record {segment, offset, length, crc32, valid, resynced, data} or a damaged region {segment, offset, end, kind, severity, message}; json writes one document; hex a canonical hexdump of each header, record and region (--context N adds bytes either side of damage); raw the payload bytes alone, back to back (with --damaged-only, the damaged bytes).

Offsets are those of the record header (the payload starts 8 bytes later); positions are SEGMENT:OFFSET. Output is streamed in constant memory, and a closed pipe (| head) ends the dump quietly with exit 0. The exit code is 0 whenever the dump completes, damage or not ('walctl verify' gives the verdict); a segment that cannot be read is shown in the stream and on stderr, the dump goes on, and it exits 66 or 74.`
  static examples = [
    '<%= config.bin %> <%= command.id %> ./wal',
    '<%= config.bin %> <%= command.id %> ./wal --format jsonl --damaged-only',
    '<%= config.bin %> <%= command.id %> ./wal --segment 3 --offset 89 --format raw > rec.bin',
    '<%= config.bin %> <%= command.id %> ./wal --from 2:89 --to 3:1024 --format hex --context 32',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --decode shardex --limit 20',
    '<%= config.bin %> <%= command.id %> ./wal --stats',
    '<%= config.bin %> <%= command.id %> ./wal --follow --format jsonl',
  ]
  static args = {
    path: Args.string({name: 'PATH', required: true, description: 'WAL directory, Shardex index root, or a single segment file'}),
  }
  static flags = {
    format: Flags.string({char: 'o', description: 'output format (default: table at a terminal, jsonl otherwise; json under --json)', options: [...DUMP_FORMATS]}),
    encoding: Flags.string({description: 'how `data` is written in jsonl and json', options: [...DATA_ENCODINGS], default: 'hex'}),
    from: Flags.string({description: 'start at this position (SEGMENT:OFFSET): entries ending at or before it are skipped'}),
    to: Flags.string({description: 'stop at this position (SEGMENT:OFFSET): entries starting after it are not shown'}),
    segment: Flags.integer({char: 's', description: 'only this segment id (repeatable)', multiple: true, min: 0}),
    offset: Flags.integer({description: 'only the record or damaged region whose bytes hold this byte offset (in each selected segment)', min: 0}),
    limit: Flags.integer({char: 'n', description: 'show at most this many records and damaged regions', min: 1}),
    'valid-only': Flags.boolean({description: 'show valid records only', exclusive: ['damaged-only']}),
    'damaged-only': Flags.boolean({description: 'show damaged regions only', exclusive: ['valid-only']}),
    context: Flags.integer({description: 'hex format: bytes shown before and after each damaged region', default: 0, min: 0}),
    stats: Flags.boolean({description: 'print statistics per segment and in total instead of the records (a table, or JSON under --json or --format json|jsonl)'}),
    decode: Flags.string({description: 'decode each payload (shardex: a Shardex WalTransaction and its operations)', options: ['shardex']}),
    follow: Flags.boolean({char: 'f', description: 'after the last record, keep polling for new records and segments until interrupted'}),
    interval: Flags.string({description: 'how often --follow polls, e.g. 200ms, 2s', default: '500ms'}),
  }

  async run(): Promise<DumpStats | DumpSummary | void> {
    const {args, flags} = await this.parse(Dump)
    const format: DumpFormat = this.jsonEnabled() ? 'json' : ((flags.format as DumpFormat | undefined) ?? (process.stdout.isTTY ? 'table' : 'jsonl'))
    if (flags.follow && format === 'json') this.fail(ExitCode.USAGE, '--follow streams without end: use --format jsonl, table, hex or raw, not json')
    if (flags.follow && flags.stats) this.fail(ExitCode.USAGE, '--follow and --stats cannot be combined')
    const intervalMs = parseDuration(flags.interval)
    if (intervalMs === undefined || intervalMs <= 0) this.fail(ExitCode.USAGE, `invalid duration '${flags.interval}' for --interval: e.g. 200ms, 1s`)
    const filter: DumpFilter = {
      from: flags.from === undefined ? undefined : positionValue(flags.from, 'from'),
      to: flags.to === undefined ? undefined : positionValue(flags.to, 'to'),
      segments: flags.segment && flags.segment.length > 0 ? new Set(flags.segment) : undefined,
      offset: flags.offset,
      limit: flags.limit,
      validOnly: flags['valid-only'],
      damagedOnly: flags['damaged-only'],
    }
    const target = resolveDumpTarget(args.path)
    const out = new Output(1)
    const bytes = new SegmentBytes()
    // Anything else written to stdout must not turn a closed pipe into a crash either.
    process.stdout.on('error', () => {})
    try {
      if (flags.stats) {
        const collector = new StatsCollector()
        const progress = startWalProgress('dump', args.path, this.jsonEnabled())
        let walked: DumpResult
        try {
          walked = dumpWal(target, filter, trackSegments(collector, progress))
        } finally {
          progress.finish()
        }
        const stats = collector.result()
        this.reportUnreadable(walked)
        if (this.jsonEnabled()) return stats
        out.write(format === 'json' || format === 'jsonl' ? JSON.stringify(stats) + '\n' : renderStats(stats, this.chalk()))
        out.flush()
        return stats
      }
      const options: RenderOptions = {
        out,
        bytes,
        encoding: flags.encoding as DataEncoding,
        decode: flags.decode as 'shardex' | undefined,
        context: flags.context,
        chalk: this.chalk(),
        width: process.stdout.columns || Number(process.env.COLUMNS) || 120,
        damagedOnly: flags['damaged-only'],
      }
      const renderer = makeRenderer(format, options)
      renderer.begin(target)
      const waitForFirst = flags.follow && !target.file && target.segmentIds.length === 0
      const result: DumpResult = waitForFirst
        ? {target, segmentSize: 0, segments: 0, records: 0, damaged: 0, stopped: false, verdict: 'clean'}
        : dumpWal(target, filter, renderer)
      if (flags.follow && !result.stopped) {
        out.flush()
        const more = await this.follow(target, result, filter, renderer, out, intervalMs!)
        result.records += more.records
        result.damaged += more.damaged
      }
      renderer.end(result)
      out.flush()
      this.reportUnreadable(result)
      // Under --json the document is already written, streamed; oclif must not print a second one.
      if (this.jsonEnabled()) return
      return {input: target.input, dir: target.dir, segments: result.segments, records: result.records, damaged: result.damaged, stopped: result.stopped, verdict: result.verdict}
    } catch (error) {
      if (error instanceof PipeClosed) {
        process.exitCode = 0
        return
      }
      // What was dumped before the error stays dumped.
      try {
        out.flush()
      } catch {}
      throw error
    } finally {
      bytes.close()
    }
  }

  private async follow(target: DumpTarget, result: DumpResult, filter: DumpFilter, renderer: DumpRenderer, out: Output, intervalMs: number) {
    let stop = false
    let wake: (() => void) | undefined
    const onSignal = (): void => {
      stop = true
      wake?.()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      return await followWal(target, result.last, filter, renderer, {
        intervalMs,
        segmentSize: result.segmentSize || undefined,
        shown: result.records + result.damaged,
        stopped: () => stop,
        flush: () => out.flush(),
        sleep: (ms) => new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        }),
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }

  /** Segments the dump could not read were shown in the stream; each also gets a line on stderr (not under --json), and the exit code says so (66 or 74). */
  private reportUnreadable(result: DumpResult): void {
    const errors = result.unreadable ?? []
    for (const error of errors) this.note(`walctl: ${error.message}`)
    if (errors.length > 0) process.exitCode = errors[0].exitCode
  }

  private chalk(): ChalkInstance {
    // One place decides colour for every command (src/cli/color.ts): --color/--no-color, FORCE_COLOR, NO_COLOR, a terminal.
    return paint('stdout')
  }
}
