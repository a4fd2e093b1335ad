// `walctl explain`: from an error message of Shardex's own to the segment and
// byte offset it means, what walctl's scan sees there, and the command that
// repairs it. Read-only: one scan, like verify.
import * as path from 'node:path'
import {ExitCode, WalError} from '../errors.js'
import {FIELD, maxPayloadSize, nowMicros, SegmentHeader} from '../format/format.js'
import {segmentFileName} from '../format/names.js'
import {Problem, ProblemKind, scanWal, SegmentSummary, Verdict} from '../read/scan.js'
import {shellPath} from '../fs/quote.js'
import {KNOWN_MESSAGES, parseShardexMessage, ShardexMessage, ShardexMessageKind} from './shardex-messages.js'

export interface Explanation {
  /** The WAL directory (or the single file) scanned. */
  target: string
  message: string
  kind: ShardexMessageKind
  /** What Shardex means by it, in one sentence. */
  meaning: string
  segment: number | null
  file: string | null
  offset: number | null
  /** What walctl sees there: the problems of its scan at that place. */
  found: Problem[]
  /** One line on what walctl sees there. */
  sees: string
  verdict: Verdict
  /** Commands to run, in order; empty when there is nothing to repair. */
  repair: string[]
  /** What else to do or know, when a command is not the answer. */
  advice: string | null
}

export interface ExplainOptions {
  nowUs?: bigint
  /** Quotes a path for the suggested commands (POSIX shell). */
  quote?: (p: string) => string
}

const HEADER_KINDS: Partial<Record<ShardexMessageKind, ProblemKind[]>> = {
  'future-created': ['future-timestamp', 'clock-skew'],
  'future-modified': ['future-timestamp', 'clock-skew'],
  'created-after-modified': ['created-after-modified'],
  'bad-magic': ['bad-magic', 'short-file'],
  'bad-version': ['bad-version'],
  'bad-header-size': ['bad-header-size'],
  'bad-data-offset': ['bad-data-offset'],
  'reserved-not-zero': ['reserved-not-zero'],
}

const RECORD_KINDS: ReadonlySet<ShardexMessageKind> = new Set(['corrupted-record', 'record-checksum', 'truncated-record-header', 'truncated-record-data'])

const MEANING: Record<ShardexMessageKind, string> = {
  'corrupted-record': 'while recovering the write pointer of the segment it opens, Shardex found a record whose CRC does not match (a torn or damaged record) and refuses to open the segment',
  'record-checksum': 'an integrity check found a record whose CRC does not match its data',
  'truncated-record-header': 'an integrity check found a record header cut by the write pointer',
  'truncated-record-data': 'an integrity check found a record whose data runs past the write pointer',
  'future-created': "the segment's created_at lies ahead of Shardex's clock, so Shardex refuses to open it",
  'future-modified': "the segment's modified_at lies ahead of Shardex's clock, so Shardex refuses to open it",
  'created-after-modified': "the segment's created_at is later than its modified_at, so Shardex refuses to open it",
  'bad-magic': 'the file does not start with "WLOG": it is not a WAL segment, or its header is overwritten',
  'bad-version': "the segment header's version is not 1",
  'bad-header-size': "the segment header's header_size is not 80",
  'bad-data-offset': "the segment header's data_offset is below 80",
  'reserved-not-zero': "the 32 reserved bytes of the segment header (offsets 48..80) are not all zero",
  'segment-full': 'the record does not fit in what is left of the current segment; Shardex rotates to a new segment and tries again',
  'segment-size-mismatch': "the newest segment's size differs from the segment size Shardex is configured with, so it will not reopen the WAL",
}

/** Explains a Shardex error message against the WAL at `input` (a WAL directory, index root or one segment file). */
export function explainShardexError(input: string, message: string, options: ExplainOptions = {}): Explanation {
  const parsed = parseShardexMessage(message)
  if (!parsed) {
    throw new WalError(ExitCode.USAGE, `not a Shardex WAL error message walctl knows: ${JSON.stringify(message.slice(0, 200))}; known: ${KNOWN_MESSAGES.join('; ')}`)
  }
  const quote = options.quote ?? shellPath
  const headers = new Map<number, SegmentHeader | undefined>()
  const starts = new Map<number, Set<number>>()
  const scan = scanWal(input, {
    nowUs: options.nowUs ?? nowMicros(),
    onSegment: (file, header) => {
      headers.set(file.id, header)
      starts.set(file.id, new Set())
    },
    onRecord: (segment, _buf, offset) => {
      starts.get(segment)?.add(offset)
    },
  })
  const isFile = scan.segments.length === 1 && path.resolve(input) === scan.segments[0].file
  const newest = scan.segments.at(-1)
  const seg = pickSegment(parsed, scan.segments, scan.problems, headers)
  const offset = parsed.offset ?? (parsed.field ? FIELD[parsed.field].offset : null)
  const found = seg ? relevantProblems(parsed, seg, scan.problems) : []
  const base: Omit<Explanation, 'sees' | 'repair' | 'advice'> = {
    target: isFile ? path.resolve(input) : scan.dir,
    message: message.trim(),
    kind: parsed.kind,
    meaning: MEANING[parsed.kind],
    segment: seg?.id ?? parsed.segment ?? null,
    file: seg?.file ?? (parsed.segment === undefined ? null : path.join(scan.dir, segmentFileName(parsed.segment))),
    offset,
    found,
    verdict: scan.verdict,
  }
  if (parsed.segment !== undefined && (!seg || seg.id !== parsed.segment)) {
    return {...base, sees: `there is no ${segmentFileName(parsed.segment)} in ${scan.dir}${newest ? ` (the newest segment is ${path.basename(newest.file)})` : ''}: the message is about another copy of the WAL, or the segment was moved since`, repair: [], advice: 'run walctl explain on the WAL directory that Shardex opened'}
  }
  if (!seg) return {...base, sees: `no segment in ${scan.dir}`, repair: [], advice: 'point walctl explain at the index root or the wal/ directory Shardex opened'}
  const sees = describeFindings(parsed, seg, found, starts.get(seg.id))
  const {repair, advice} = repairFor(parsed, seg, found, scan.verdict, scan.segmentSize, isFile ? undefined : quote(scan.dir))
  return {...base, sees, repair, advice}
}

function pickSegment(parsed: ShardexMessage, segments: SegmentSummary[], problems: Problem[], headers: Map<number, SegmentHeader | undefined>): SegmentSummary | undefined {
  if (parsed.segment !== undefined) return segments.find((s) => s.id === parsed.segment)
  const newestFirst = [...segments].reverse()
  if (RECORD_KINDS.has(parsed.kind)) {
    // Shardex opens only the newest segment at start-up; an integrity check may name any.
    return newestFirst.find((s) => relevantProblems(parsed, s, problems).length > 0) ?? newestFirst[0]
  }
  const kinds = HEADER_KINDS[parsed.kind]
  if (kinds) {
    const byValue = newestFirst.find((s) => headerMatches(parsed, headers.get(s.id)))
    return byValue ?? newestFirst.find((s) => relevantProblems(parsed, s, problems).length > 0) ?? newestFirst[0]
  }
  return newestFirst[0]
}

function headerMatches(parsed: ShardexMessage, h: SegmentHeader | undefined): boolean {
  if (!h) return false
  const v = parsed.values
  if (parsed.kind === 'future-created') return Number(h.createdAtUs) === v.createdAt
  if (parsed.kind === 'future-modified') return Number(h.modifiedAtUs) === v.modifiedAt
  if (parsed.kind === 'created-after-modified') return Number(h.createdAtUs) === v.createdAt && Number(h.modifiedAtUs) === v.modifiedAt
  if (parsed.kind === 'bad-version') return h.version === v.version
  if (parsed.kind === 'bad-header-size') return h.headerSize === v.headerSize
  if (parsed.kind === 'bad-data-offset') return Number(h.dataOffset) === v.dataOffset
  return false
}

function relevantProblems(parsed: ShardexMessage, seg: SegmentSummary, problems: Problem[]): Problem[] {
  const mine = problems.filter((p) => p.segment === seg.id && p.file === seg.file)
  const kinds = HEADER_KINDS[parsed.kind]
  if (kinds) return mine.filter((p) => kinds.includes(p.kind))
  if (RECORD_KINDS.has(parsed.kind) && parsed.offset !== undefined) {
    const at = parsed.offset
    return mine.filter((p) => p.offset !== null && p.end !== undefined && p.offset <= at && at < Math.max(p.end, p.offset + 1))
  }
  if (parsed.kind === 'segment-size-mismatch') return mine.filter((p) => p.kind === 'size-mismatch')
  return []
}

function describeProblem(p: Problem): string {
  const where = p.offset === null ? '' : ` offset ${p.offset}${p.end === undefined ? '' : `..${p.end}`}`
  return `${path.basename(p.file)}:${where} ${p.kind} (${p.severity}): ${p.message}`
}

function describeFindings(parsed: ShardexMessage, seg: SegmentSummary, found: Problem[], starts: Set<number> | undefined): string {
  const name = path.basename(seg.file)
  if (found.length > 0) return found.map(describeProblem).join('; ')
  if (parsed.kind === 'segment-full') {
    return `${name} holds ${seg.records} record(s); its records end at ${seg.cleanEnd}, leaving ${seg.size - seg.cleanEnd} of its ${seg.size} bytes`
  }
  if (parsed.kind === 'segment-size-mismatch') return `${name} is ${seg.size} bytes; walctl sees no size problem among the WAL's segments`
  if (parsed.offset !== undefined) {
    if (parsed.offset >= seg.size) return `${name} is only ${seg.size} bytes: offset ${parsed.offset} lies past its end, so the message is about another segment or copy`
    if (starts?.has(parsed.offset)) return `a valid record starts at offset ${parsed.offset} of ${name} now: the damage was repaired since, or the message is about another segment or copy`
    return `walctl sees no damage at offset ${parsed.offset} of ${name} (it holds ${seg.records} valid record(s), ending at ${seg.cleanEnd})`
  }
  return `walctl sees no such problem in ${name}'s header now: it was repaired since, or the message is about another segment or copy`
}

function repairFor(parsed: ShardexMessage, seg: SegmentSummary, found: Problem[], verdict: Verdict, segmentSize: number, dir: string | undefined): {repair: string[]; advice: string | null} {
  if (parsed.kind === 'segment-full') {
    const data = parsed.values.dataBytes
    const max = maxPayloadSize(segmentSize || seg.size)
    if (data > max) return {repair: [], advice: `a record of ${data} bytes can never fit: a segment of ${segmentSize || seg.size} bytes holds at most ${max} bytes of payload; configure Shardex with a larger segment size`}
    return {repair: [], advice: 'not damage: Shardex rotates to a new segment when a record does not fit; nothing to repair'}
  }
  if (dir === undefined) {
    return {repair: [], advice: found.length > 0 ? 'this is a single file, not a WAL directory: walctl repairs only WAL directories; copy the file into a WAL directory of its own to repair it' : null}
  }
  const clockOnly = found.length > 0 && found.every((p) => p.kind === 'clock-skew')
  if (clockOnly) {
    return {repair: [`walctl recover ${dir} --dry-run`, `walctl recover ${dir}`], advice: "the timestamp is less than a day ahead of this machine's clock: check the clocks of the machines that wrote and read the WAL; recover resets it to now"}
  }
  if (verdict === 'repairable') return {repair: [`walctl recover ${dir} --dry-run`, `walctl recover ${dir}`, `walctl verify ${dir}`], advice: null}
  if (verdict === 'damaged') {
    return {
      repair: [`walctl recover ${dir} --dry-run --mode point-in-time`, `walctl recover ${dir} --dry-run --mode salvage`, `walctl recover ${dir} --mode point-in-time`, `walctl verify ${dir}`],
      advice: 'the WAL is damaged: a repair drops or skips records; compare the two dry runs before choosing a mode (point-in-time keeps what Shardex would have replayed, salvage every valid record found)',
    }
  }
  if (parsed.kind === 'segment-size-mismatch') {
    return {repair: [], advice: `configure Shardex with the WAL's segment size (${seg.size} bytes), or start a new WAL at the other size`}
  }
  return {repair: [], advice: 'walctl finds the WAL clean now: nothing to repair'}
}
