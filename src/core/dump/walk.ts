// The dump's walk over a WAL: scanWal's callbacks turned into a stream of
// segments, records and damaged regions, filtered, in file order. Read-only,
// and it keeps nothing: each record's bytes are a view into the scanner's
// reused window, valid only during the call.
import * as path from 'node:path'
import {listWal} from '../read/directory.js'
import {ExitCode, WalError} from '../errors.js'
import {FIELD, FIRST_RECORD_OFFSET, SegmentHeader} from '../format/format.js'
import {Problem, ProblemKind, resolveScanTarget, scanWal, SegmentSummary, Severity, Verdict as ScanVerdict} from '../read/scan.js'
import {DumpFilter, hasSegmentBounds, rangeSelected, segmentSelected} from './filters.js'

export interface DumpRecord {
  segment: number
  file: string
  /** Offset of the record header; the payload starts 8 bytes later. */
  offset: number
  length: number
  crc32: number
  /** Found only by resyncing past damage earlier in the segment. */
  resynced: boolean
  /** The payload: a view valid only during the callback. */
  data: Buffer
}

export interface DumpDamage {
  /** null for a problem of the directory, not of a segment. */
  segment: number | null
  file: string
  offset: number | null
  /** End of the damaged byte range (exclusive). */
  end: number | null
  kind: ProblemKind
  severity: Severity
  message: string
}

export interface DumpSegment {
  id: number
  file: string
  size: number
  header?: SegmentHeader
  /** Every problem of the header, warnings included. */
  problems: Problem[]
}

export interface DumpVisitor {
  segment?(s: DumpSegment): void
  record?(r: DumpRecord): void
  damage?(d: DumpDamage): void
  /** A problem that costs nothing (clock skew, stray file); shown only where a person reads. */
  warning?(p: Problem): void
  segmentEnd?(s: SegmentSummary): void
}

export interface DumpTarget {
  input: string
  /** The WAL directory, or the directory of the single file. */
  dir: string
  /** Set when the input is one file. */
  file?: string
  segmentIds: number[]
}

export interface DumpResult {
  target: DumpTarget
  segmentSize: number
  segments: number
  records: number
  damaged: number
  /** The dump stopped early at --limit or --to. */
  stopped: boolean
  verdict: ScanVerdict
  /** Segments that could not be read: shown as damage in the stream, and the dump goes on. */
  unreadable?: WalError[]
  /** The last segment scanned, for --follow to go on from. */
  last?: {id: number; file: string; size: number; lastRecordEnd: number; resynced: boolean; damageEnd: number}
}

/** What PATH names: one file, or a WAL directory (a Shardex index root resolves to its wal/). */
export function resolveDumpTarget(input: string): DumpTarget {
  const {dir, file} = resolveScanTarget(input)
  if (file) return {input: path.resolve(input), dir, file: file.path, segmentIds: [file.id]}
  return {input: path.resolve(input), dir, segmentIds: listWal(dir).segments.map((s) => s.id)}
}

/** The byte range a header problem stands for, from the field it names. */
function headerRange(p: Problem, size: number): {offset: number | null; end: number | null} {
  const at = p.offset
  switch (p.kind) {
    case 'short-file':
      return {offset: 0, end: size}
    case 'bad-magic':
      return {offset: FIELD.magic.offset, end: FIELD.magic.offset + FIELD.magic.size}
    case 'bad-version':
      return {offset: FIELD.version.offset, end: FIELD.version.offset + FIELD.version.size}
    case 'bad-header-size':
      return {offset: FIELD.headerSize.offset, end: FIELD.headerSize.offset + FIELD.headerSize.size}
    case 'bad-data-offset':
      return {offset: FIELD.dataOffset.offset, end: FIELD.dataOffset.offset + FIELD.dataOffset.size}
    case 'reserved-not-zero':
      return {offset: at, end: FIELD.reserved.offset + FIELD.reserved.size}
    case 'future-timestamp':
    case 'clock-skew':
    case 'created-after-modified':
      return {offset: at, end: at === null ? null : at + 8}
    case 'size-mismatch':
      // The bytes past the WAL's segment size when longer; a point where the file ends when shorter.
      return {offset: at, end: at === null ? null : Math.max(at, size)}
    default:
      return {offset: at, end: p.end ?? at}
  }
}

export function problemToDamage(p: Problem, size = 0): DumpDamage {
  const range = p.end === undefined && p.segment !== null ? headerRange(p, size) : {offset: p.offset, end: p.end ?? p.offset}
  return {segment: p.segment, file: p.file, ...range, kind: p.kind, severity: p.severity, message: p.message}
}

export function dumpWal(target: DumpTarget, filter: DumpFilter, visitor: DumpVisitor): DumpResult {
  const result: DumpResult = {target, segmentSize: 0, segments: 0, records: 0, damaged: 0, stopped: false, verdict: 'clean', unreadable: []}
  if (!target.file && target.segmentIds.length === 0) {
    throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here', {file: target.dir})
  }
  const limit = filter.limit ?? Infinity
  let shown = 0
  let pending: DumpSegment | undefined
  let current: DumpSegment | undefined
  const full = (): boolean => shown >= limit

  const showDamage = (d: DumpDamage): void => {
    if (filter.validOnly || full()) return
    if (d.segment !== null && d.offset !== null) {
      const v = rangeSelected(filter, d.segment, d.offset, d.end ?? d.offset)
      if (v !== 'show') return
    } else if (d.segment !== null && !segmentSelected(filter, d.segment)) {
      return
    } else if (filter.offset !== undefined) {
      return
    }
    shown++
    result.damaged++
    visitor.damage?.(d)
  }
  const flushSegment = (): void => {
    if (!pending) return
    const s = pending
    pending = undefined
    current = s
    result.segments++
    visitor.segment?.(s)
    for (const p of s.problems) {
      if (p.severity === 'warning') visitor.warning?.(p)
      // Where a file ends early or runs long comes after its records, in file order.
      else if (p.kind === 'size-mismatch' && s.size >= FIRST_RECORD_OFFSET) tail.push(p)
      else showDamage(problemToDamage(p, s.size))
    }
  }
  let tail: Problem[] = []
  let damageEnd = 0

  const scanFilter = !target.file && hasSegmentBounds(filter) ? new Set(target.segmentIds.filter((id) => segmentSelected(filter, id))) : undefined
  const scan = scanWal(target.file ?? target.dir, {
    segments: scanFilter,
    onSegment: (file, header) => {
      damageEnd = 0
      pending = {id: file.id, file: file.path, size: file.size, header, problems: []}
    },
    onProblem: (p) => {
      if (p.end !== undefined && p.segment === (pending ?? current)?.id) damageEnd = Math.max(damageEnd, p.end)
      if (pending && p.end === undefined && p.segment === pending.id) {
        pending.problems.push(p)
        return
      }
      flushSegment()
      if (p.severity === 'warning') visitor.warning?.(p)
      else showDamage(problemToDamage(p, current?.size))
    },
    onRecord: (segment, payload, offset, length, crc, resynced) => {
      flushSegment()
      if (full()) {
        result.stopped = true
        return false
      }
      const v = rangeSelected(filter, segment, offset, offset + 8 + length)
      if (v === 'past') {
        result.stopped = true
        return false
      }
      if (v === 'skip' || filter.damagedOnly) return
      shown++
      result.records++
      visitor.record?.({segment, file: current?.file ?? '', offset, length, crc32: crc, resynced, data: payload.bytes()})
    },
    onSegmentEnd: (summary) => {
      flushSegment()
      for (const p of tail) showDamage(problemToDamage(p, summary.size))
      tail = []
      visitor.segmentEnd?.(summary)
      result.last = {id: summary.id, file: summary.file, size: summary.size, lastRecordEnd: Math.max(summary.lastRecordEnd, Math.min(summary.size, FIRST_RECORD_OFFSET)), resynced: summary.resyncedRecords > 0, damageEnd}
    },
  })
  if (full()) result.stopped = true
  result.segmentSize = scan.segmentSize
  result.verdict = scan.verdict
  result.unreadable = scan.unreadable
  return result
}
