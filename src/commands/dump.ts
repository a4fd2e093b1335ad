import {Args, Flags} from '@oclif/core'
import {ChalkInstance} from 'chalk'
import {jsonFlag, positionValue} from '../cli/args.js'
import {WalCommand} from '../cli/base.js'
import {paint} from '../cli/color.js'
import {startWalProgress, trackSegments} from '../cli/progress.js'
import {makeRenderer} from '../cli/dump/make.js'
import {Output, PipeClosed} from '../cli/dump/output.js'
import {DATA_ENCODINGS, DataEncoding, DUMP_FORMATS, DumpFormat, RenderOptions} from '../cli/dump/renderer.js'
import {renderStats} from '../cli/dump/stats.js'
import {dumpFlagConflict} from '../cli/dump/conflicts.js'
import {DumpFilter, holdsOperation} from '../core/dump/filters.js'
import {checkSelection, describeTimeWindow, dumpFiles, explainOffset, parseTime, segmentsInTime} from '../core/dump/selection.js'
import {DumpWindow, WindowOptions} from '../core/dump/window.js'
import {formatPosition} from '../core/format/names.js'
import {OPERATION_FLAG_NAMES, OperationName} from '../core/format/shardex-transaction.js'
import {followWal} from '../core/dump/follow.js'
import {SegmentBytes} from '../core/dump/segment-bytes.js'
import {DumpStats, StatsCollector} from '../core/dump/stats.js'
import {dumpWal, DumpResult, DumpTarget, resolveDumpTarget} from '../core/dump/walk.js'
import {ExitCode, WalError} from '../core/errors.js'
import {INTERRUPT_SIGNALS, InterruptSignal, signalExitCode} from '../core/interrupt.js'
import {parseDuration} from '../core/format/units.js'

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

Formats: table (the default at a terminal) shows each segment's header field by field, then a row per record or damaged region, and counts of what was shown beside what the selection holds ("3 of 8 record(s) … (--limit 3)"); jsonl (the default when piped) writes one object a line, a record {segment, offset, length, crc32, valid, resynced, data, encoding} or a damaged region {segment, offset, end, kind, severity, message}; json writes one document (--json too, which wins over --format jsonl); hex a canonical hexdump of each header, record and region (--context N adds bytes either side of damage); raw the payload bytes alone, back to back (with --damaged-only, or an --offset inside a damaged region, the damaged bytes).

No byte is lost in any format: a payload that is not valid UTF-8 under --encoding utf8 is written in hex, and the record says so. Under --damaged-only, --offset and --op a segment's header is shown only when something in it is. A flag that would have no effect (--context without hex, --encoding with hex or raw, --interval without --follow…) is a usage error.

Offsets are those of the record header (the payload starts 8 bytes later); positions are SEGMENT:OFFSET. Output is streamed in constant memory, and a closed pipe (| head) ends the dump quietly with exit 0. The exit code is 0 whenever the dump completes, damage or not ('walctl verify' gives the verdict; when nothing matches, one line on stderr says so), and 66 when a filter names what is not there: a segment, a position or offset past the end, an offset that no record or damaged region holds. A segment that cannot be read is shown in the stream and on stderr, the dump goes on, and it exits 66 or 74.`
  static examples = [
    '<%= config.bin %> <%= command.id %> ./wal',
    '<%= config.bin %> <%= command.id %> ./wal --format jsonl --damaged-only',
    '<%= config.bin %> <%= command.id %> ./wal --segment 3 --offset 89 --format raw > rec.bin',
    '<%= config.bin %> <%= command.id %> ./wal --from 2:89 --to 3:1024 --format hex --context 32',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --decode shardex --limit 20',
    '<%= config.bin %> <%= command.id %> ./wal --stats',
    '<%= config.bin %> <%= command.id %> ./wal --follow --format jsonl',
    '<%= config.bin %> <%= command.id %> ./wal --since 2026-01-31T12:00:00Z --until 2026-01-31T13:00:00Z',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --decode shardex --op remove-document,delete-document-text',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --decode shardex --stats',
  ]
  static exitCodes = {
    0: 'the dump completed, damage or not (walctl verify gives the verdict), or its reader went away',
    64: '',
    66: 'no such directory or file, no segments, permission denied; a segment, position or offset asked for that does not exist',
    74: '',
    129: '--follow ended by SIGHUP (SIGINT: 130, SIGTERM: 143) once what was read was written out',
    130: '',
    143: '',
  }
  static args = {
    path: Args.string({name: 'PATH', required: true, ignoreStdin: true, description: 'WAL directory, Shardex index root, or a single segment file'}),
  }
  static flags = {
    json: jsonFlag('the dump (each segment with its header, records and damaged regions; with --stats, the statistics)'),
    format: Flags.string({char: 'o', description: 'output format: table at a terminal, jsonl otherwise; json under --json, which wins over jsonl and takes no table, hex or raw', options: [...DUMP_FORMATS]}),
    encoding: Flags.string({description: 'how payloads are written in jsonl, json and the table; a payload not valid UTF-8 is written in hex, and each record names its encoding', options: [...DATA_ENCODINGS], default: 'hex'}),
    from: Flags.string({description: 'start at this position (SEGMENT:OFFSET): entries ending at or before it are skipped'}),
    to: Flags.string({description: 'stop at this position (SEGMENT:OFFSET): entries starting after it are not shown'}),
    segment: Flags.integer({char: 's', description: 'only this segment id (repeatable)', multiple: true, min: 0}),
    offset: Flags.integer({description: 'only the record or damaged region whose bytes hold this byte offset (in each selected segment)', min: 0}),
    since: Flags.string({description: 'only segments holding records written at or after this time (ISO 8601, or a duration ago: 2h), by their header timestamps'}),
    until: Flags.string({description: 'only segments holding records written at or before this time (ISO 8601, or a duration ago), by their header timestamps'}),
    op: Flags.string({description: 'with --decode shardex: only transactions holding one of these operations (comma-separated)', options: Object.keys(OPERATION_FLAG_NAMES), multiple: true, delimiter: ','}),
    limit: Flags.integer({char: 'l', description: 'show at most this many records and damaged regions (no limit when not given; the table and json still read the rest, to count it)', min: 1}),
    'valid-only': Flags.boolean({description: 'show valid records only', exclusive: ['damaged-only']}),
    'damaged-only': Flags.boolean({description: 'show damaged regions only, and only the segments that have one', exclusive: ['valid-only']}),
    context: Flags.integer({description: 'with --format hex: bytes shown before and after each damaged region', default: 0, min: 0}),
    stats: Flags.boolean({description: 'print statistics per segment and in total instead of the records (a table, or JSON under --json or --format json|jsonl); with --decode shardex, counts and bytes by operation'}),
    decode: Flags.string({description: 'decode each payload (shardex: a Shardex WalTransaction and its operations)', options: ['shardex']}),
    follow: Flags.boolean({char: 'f', description: 'after the last record, keep polling for new records and segments until interrupted'}),
    interval: Flags.string({description: 'how often --follow polls, e.g. 200ms, 2s', default: '500ms'}),
  }

  async run(): Promise<DumpStats | DumpSummary | void> {
    const {args, flags, metadata} = await this.parse(Dump)
    const given = new Set(Object.keys(flags).filter((f) => !metadata.flags[f]?.setFromDefault))
    const format: DumpFormat = this.jsonEnabled() ? 'json' : ((flags.format as DumpFormat | undefined) ?? (process.stdout.isTTY ? 'table' : 'jsonl'))
    const conflict = dumpFlagConflict({format: (flags.format as DumpFormat | undefined) ?? format, formatGiven: given.has('format'), json: this.jsonEnabled(), stats: flags.stats, follow: flags.follow, given, decode: flags.decode})
    if (conflict) this.fail(ExitCode.USAGE, conflict)
    const intervalMs = parseDuration(flags.interval)
    if (intervalMs === undefined || intervalMs <= 0) this.fail(ExitCode.USAGE, `invalid duration '${flags.interval}' for --interval: e.g. 200ms, 1s`)
    const filter: DumpFilter = {
      from: flags.from === undefined ? undefined : positionValue(flags.from, 'from'),
      to: flags.to === undefined ? undefined : positionValue(flags.to, 'to'),
      segments: flags.segment && flags.segment.length > 0 ? new Set(flags.segment) : undefined,
      offset: flags.offset,
      validOnly: flags['valid-only'],
      damagedOnly: flags['damaged-only'],
    }
    const target = resolveDumpTarget(args.path)
    this.selectSegments(target, filter, flags)
    const ops = flags.op && flags.op.length > 0 ? new Set<OperationName>(flags.op.map((o) => OPERATION_FLAG_NAMES[o])) : undefined
    let missed: WalError | undefined
    // Only the table and json show how much there is past --limit; elsewhere the walk stops there, as `| head` would.
    const walkStopsAtLimit = ops === undefined && (flags.stats || format === 'jsonl' || format === 'hex' || format === 'raw')
    if (walkStopsAtLimit) filter.limit = flags.limit
    const windowOptions: WindowOptions = {
      walkStopsAtLimit,
      limit: flags.limit,
      keep: ops && ((r) => holdsOperation(r.data, ops)),
      sparse: filter.damagedOnly || filter.offset !== undefined || ops !== undefined,
      to: filter.to && {segment: filter.to.segment, text: formatPosition(filter.to)},
      onSummary: filter.offset === undefined ? undefined : (s) => {
        if (!missed && filter.offset! < s.size) missed = explainOffset(filter.offset!, s)
      },
    }
    const out = new Output(1)
    const bytes = new SegmentBytes()
    // Anything else written to stdout must not turn a closed pipe into a crash either.
    process.stdout.on('error', () => {})
    try {
      if (flags.stats) {
        const collector = new StatsCollector({operations: flags.decode === 'shardex'})
        const progress = startWalProgress('dump', args.path, this.jsonEnabled())
        const window = new DumpWindow(target, collector, windowOptions)
        let walked: DumpResult
        try {
          walked = dumpWal(target, filter, trackSegments(window, progress))
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
        rawDamage: filter.damagedOnly || filter.offset !== undefined,
        preview: given.has('encoding') ? (flags.encoding as DataEncoding) : undefined,
      }
      const renderer = makeRenderer(format, options)
      const window = new DumpWindow(target, renderer, windowOptions)
      const waitForFirst = flags.follow && !target.file && target.segmentIds.length === 0
      const result: DumpResult = waitForFirst
        ? {target, segmentSize: 0, segments: 0, records: 0, damaged: 0, stopped: false, verdict: 'clean'}
        : dumpWal(target, filter, window)
      // Nothing written yet: an --offset that holds no entry is an error, not an empty document.
      if (missed && window.shown.records + window.shown.damaged === 0 && !flags.follow) throw missed
      if (flags.follow && !result.stopped && !window.full()) {
        window.begin()
        out.flush()
        const more = await this.follow(target, result, filter, window, out, intervalMs!)
        result.records += more.records
        result.damaged += more.damaged
      }
      result.stopped ||= window.limited
      window.end(result)
      out.flush()
      if (window.shown.records + window.shown.damaged === 0 && format !== 'table') {
        const filtered = ['from', 'to', 'segment', 'offset', 'since', 'until', 'op', 'valid-only', 'damaged-only'].some((f) => given.has(f))
        const why = filtered ? `no record or damaged region matches the filters in the ${window.matched.segments} segment(s) read` : `the ${window.matched.segments} segment(s) hold no record and no damage`
        this.note(`walctl: ${target.file ?? target.dir}: nothing to show: ${why}`)
      }
      this.reportUnreadable(result)
      // Under --json the document is already written, streamed; oclif must not print a second one.
      if (this.jsonEnabled()) return
      return {input: target.input, dir: target.dir, segments: window.shown.segments, records: window.shown.records, damaged: window.shown.damaged, stopped: result.stopped, verdict: result.verdict}
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

  /** --since/--until become a set of segments; a filter naming what is not there is refused here, before any output. */
  private selectSegments(target: DumpTarget, filter: DumpFilter, flags: {since?: string; until?: string; follow: boolean}): void {
    const files = dumpFiles(target)
    const since = flags.since === undefined ? undefined : this.time(flags.since, 'since')
    const until = flags.until === undefined ? undefined : this.time(flags.until, 'until')
    if (since === undefined && until === undefined) {
      checkSelection(target, files, filter, {follow: flags.follow})
      return
    }
    const ids = segmentsInTime(files, since, until)
    checkSelection(target, files, filter, {time: {ids, window: describeTimeWindow(since, until)}, follow: flags.follow})
    if (flags.follow) {
      // New segments are newer than --since: follow from the first segment in the window, or the next one to come.
      const first = files.find((f) => ids.has(f.id))?.id ?? (files.at(-1)?.id ?? 0) + 1
      if (!filter.from || filter.from.segment < first) filter.from = {segment: first, offset: 0}
      return
    }
    filter.segments = new Set([...ids].filter((id) => !filter.segments || filter.segments.has(id)))
  }

  private time(text: string, flag: string): bigint {
    const us = parseTime(text)
    if (us === undefined) this.fail(ExitCode.USAGE, `invalid time '${text}' for --${flag}: give an ISO 8601 time (2026-01-31T12:00:00Z) or a duration ago (90m, 2h, 7d)`)
    return us
  }

  private async follow(target: DumpTarget, result: DumpResult, filter: DumpFilter, window: DumpWindow, out: Output, intervalMs: number) {
    let stop = false
    let wake: (() => void) | undefined
    // Like tail -f: a signal ends the follow once what was read is written out; the exit code says which (128 + n).
    const onSignal = (signal: InterruptSignal): void => {
      stop = true
      process.exitCode = signalExitCode(signal)
      wake?.()
    }
    for (const signal of INTERRUPT_SIGNALS) process.on(signal, onSignal)
    try {
      // --limit is the window's: followWal counts nothing against it, and stops when the window is full.
      return await followWal(target, result.last, filter, window, {
        intervalMs,
        segmentSize: result.segmentSize || undefined,
        shown: 0,
        stopped: () => stop || window.full(),
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
      for (const signal of INTERRUPT_SIGNALS) process.off(signal, onSignal)
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
