// The read-only scanner over a whole WAL directory (or one segment file):
// every segment's header, every record, every damaged region, every
// directory problem, each with what it costs. Reads with pread into one
// reused buffer; it never maps, opens for writing or changes a file.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fsError} from './errors.js'
import {readAt} from './files.js'
import {FIRST_RECORD_OFFSET, SegmentHeader, nowMicros} from './format.js'
import {checkHeader, HeaderProblemKind} from './header-check.js'
import {listWal, missingIds, resolveWalDir, SegmentFile, StrayFile} from './directory.js'
import {parseSegmentFileName, segmentFileName} from './names.js'
import {DamagedRegion, lastNonZeroEnd, RecordDamageKind, scanRecords} from './records.js'

export type DirectoryProblemKind = 'missing-segment' | 'stray-file' | 'no-segments'
export type ProblemKind = HeaderProblemKind | RecordDamageKind | DirectoryProblemKind
/** What a problem costs: `warning` nothing; `repairable` no complete record; `damaged` a record or a segment. */
export type Severity = 'warning' | 'repairable' | 'damaged'
export type Verdict = 'clean' | 'repairable' | 'damaged'

export interface Problem {
  /** Segment id, or null for a directory-level problem. */
  segment: number | null
  file: string
  offset: number | null
  /** End of the damaged byte range, for record damage. */
  end?: number
  kind: ProblemKind
  severity: Severity
  message: string
}

export interface SegmentSummary {
  id: number
  file: string
  size: number
  header?: SegmentHeader
  records: number
  payloadBytes: number
  /** End of the last valid record before any damage (the write pointer a writer would resume at). */
  cleanEnd: number
  lastRecordEnd: number
  /** Records found only by resyncing past damage. */
  resyncedRecords: number
  damagedBytes: number
  /** Times the tail was re-read because a writer might have been in the middle of a record. */
  rereads?: number
  verdict: Verdict
}

export interface WalScanVisitor {
  onSegment?(segment: SegmentFile, header: SegmentHeader | undefined): void
  /** `buf` holds the whole segment; the payload is `buf[offset + 8, offset + 8 + length)`. Return false to stop the scan. */
  onRecord?(segment: number, buf: Buffer, offset: number, length: number, crc32: number, resynced: boolean): boolean | void
  onProblem?(problem: Problem): void
  /** Called after each segment with its summary. */
  onSegmentEnd?(summary: SegmentSummary): void
}

export interface WalScanOptions extends WalScanVisitor {
  nowUs?: bigint
  clockSkewUs?: bigint
  /** Only these segment ids (directory problems between them are still reported). */
  segments?: ReadonlySet<number>
  /**
   * A writer may be appending to the newest segment while this reads it
   * without a lock: damage at that segment's tail is re-read this many times,
   * `settleMs` apart, and reported only if it stays. 0 when the caller holds
   * the writer lock. Default 3.
   */
  settleTries?: number
  /** Pause between re-reads of the newest segment's tail. Default 20 ms. */
  settleMs?: number
  /** Called before each re-read of the newest segment's damaged tail (`attempt` from 1). */
  onSettle?(segment: number, attempt: number): void
}

export const DEFAULT_SETTLE_TRIES = 3
export const DEFAULT_SETTLE_MS = 20

export interface WalScanResult {
  dir: string
  segmentSize: number
  segments: SegmentSummary[]
  problems: Problem[]
  records: number
  payloadBytes: number
  verdict: Verdict
  /** The visitor asked to stop. */
  stopped: boolean
}

const HEADER_FATAL: ReadonlySet<ProblemKind> = new Set(['short-file', 'bad-magic', 'bad-version', 'bad-header-size', 'bad-data-offset', 'reserved-not-zero'])

export function worst(a: Verdict, b: Severity): Verdict {
  if (a === 'damaged' || b === 'damaged') return 'damaged'
  if (a === 'repairable' || b === 'repairable') return 'repairable'
  return 'clean'
}

/**
 * The size a WAL's segments should have: the most common size among files
 * big enough to be segments; on a tie the larger, since a file cut short by a
 * crash or a copy is far more common than one grown past its preallocation.
 */
export function nominalSegmentSize(segments: readonly SegmentFile[]): number {
  const counts = new Map<number, number>()
  for (const s of segments) if (s.size >= FIRST_RECORD_OFFSET) counts.set(s.size, (counts.get(s.size) ?? 0) + 1)
  let best = 0
  let bestCount = 0
  for (const [size, c] of counts) {
    if (c > bestCount || (c === bestCount && size > best)) {
      best = size
      bestCount = c
    }
  }
  return best
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** What a path given by a user names: one segment file, or a WAL directory (an index root resolves to its wal/). */
export interface ScanTarget {
  dir: string
  /** Set when the path is one file (of any name: a segment copied out of its directory is segment 0 unless named like one). */
  file?: SegmentFile
}

export function resolveScanTarget(input: string): ScanTarget {
  const abs = path.resolve(input)
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch (error) {
    throw fsError(error, abs, 'open')
  }
  if (!st.isFile()) return {dir: resolveWalDir(abs)}
  const name = path.basename(abs)
  return {dir: path.dirname(abs), file: {id: parseSegmentFileName(name) ?? 0, name, path: abs, size: st.size}}
}

/** Scans a WAL directory, a Shardex index root, or a single segment file. */
export function scanWal(input: string, options: WalScanOptions = {}): WalScanResult {
  const target = resolveScanTarget(input)
  if (target.file) return scanSegments(target.dir, [target.file], [], target.file.size, options)
  const listing = listWal(target.dir)
  return scanSegments(target.dir, listing.segments, listing.strays, nominalSegmentSize(listing.segments), options, true)
}

function scanSegments(dir: string, files: SegmentFile[], strays: StrayFile[], segmentSize: number, options: WalScanOptions, isDir = false): WalScanResult {
  const problems: Problem[] = []
  const segments: SegmentSummary[] = []
  let verdict: Verdict = 'clean'
  let records = 0
  let payloadBytes = 0
  let stopped = false
  const add = (p: Problem): void => {
    problems.push(p)
    verdict = worst(verdict, p.severity)
    options.onProblem?.(p)
  }
  if (isDir && files.length === 0) {
    add({segment: null, file: dir, offset: null, kind: 'no-segments', severity: 'damaged', message: 'no WAL segments (wal_NNNNNN.log) in this directory'})
  }
  for (const s of strays) {
    add({segment: null, file: s.path, offset: null, kind: 'stray-file', severity: 'warning',
      message: s.kind === 'temporary' ? 'temporary file left by an interrupted segment create; Shardex ignores it' : `stray ${s.kind === 'directory' ? 'directory' : 'file'} in the WAL directory; Shardex ignores it`})
  }
  for (const gap of missingIds(files)) {
    add({segment: gap.id, file: path.join(dir, segmentFileName(gap.id)), offset: null, kind: 'missing-segment', severity: 'damaged', message: `segment ${gap.id} is missing from the middle of the WAL (between ${segmentFileName(gap.before)} and ${segmentFileName(gap.after)})`})
  }
  const nowUs = options.nowUs ?? nowMicros()
  let buf: Buffer = Buffer.alloc(0)
  const newest = files.at(-1)?.id
  // A segment that vanished between the listing and its read, with every older one gone too, was
  // collected by a concurrent gc (readers take no lock); one gone from anywhere else is still an error.
  for (const [index, file] of files.entries()) {
    if (options.segments && !options.segments.has(file.id)) continue
    let summary: ReturnType<typeof scanOneSegment>
    try {
      summary = scanOneSegment(file, segmentSize, nowUs, options, buf, add, file.id === newest)
    } catch (error) {
      if (file.id !== newest && vanished(error, file.path) && files.slice(0, index).every((f) => !fs.existsSync(f.path))) continue
      throw error
    }
    buf = summary.buf
    segments.push(summary.summary)
    records += summary.summary.records
    payloadBytes += summary.summary.payloadBytes
    options.onSegmentEnd?.(summary.summary)
    if (summary.stopped) {
      stopped = true
      break
    }
  }
  return {dir, segmentSize, segments, problems, records, payloadBytes, verdict, stopped}
}

/**
 * Reads `file` from `from` to its end into `into` (replaced by a larger
 * buffer when too small, keeping its first `from` bytes); returns the buffer
 * and the view of the file's bytes in it.
 */
export function readSegment(file: string, into: Buffer = Buffer.alloc(0), from = 0): {backing: Buffer; data: Buffer} {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (error) {
    throw fsError(error, file, 'open for reading')
  }
  try {
    const size = fs.fstatSync(fd).size
    if (into.length < size) {
      const grown = Buffer.allocUnsafe(size)
      into.copy(grown, 0, 0, Math.min(from, into.length))
      into = grown
    }
    if (size > from) readAt(fd, from, size - from, into.subarray(from, size))
    return {backing: into, data: into.subarray(0, size)}
  } catch (error) {
    throw fsError(error, file, 'read')
  } finally {
    fs.closeSync(fd)
  }
}

function scanOneSegment(file: SegmentFile, segmentSize: number, nowUs: bigint, options: WalScanOptions, reuse: Buffer, add: (p: Problem) => void, isNewest: boolean) {
  let {backing, data} = readSegment(file.path, reuse)
  const size = data.length
  const summary: SegmentSummary = {id: file.id, file: file.path, size, records: 0, payloadBytes: 0, cleanEnd: Math.min(size, FIRST_RECORD_OFFSET), lastRecordEnd: Math.min(size, FIRST_RECORD_OFFSET), resyncedRecords: 0, damagedBytes: 0, rereads: 0, verdict: 'clean'}
  const mark = (p: Omit<Problem, 'segment' | 'file'>): void => {
    const full: Problem = {segment: file.id, file: file.path, ...p}
    summary.verdict = worst(summary.verdict, p.severity)
    add(full)
  }
  const {header, problems} = checkHeader(data, size, {segmentSize: segmentSize || undefined, nowUs, clockSkewUs: options.clockSkewUs})
  summary.header = header
  options.onSegment?.(file, header)
  for (const p of problems) mark({offset: p.offset, kind: p.kind, severity: headerSeverity(p.kind, data, segmentSize), message: p.message})
  if (size < FIRST_RECORD_OFFSET) {
    summary.damagedBytes = size
    return {summary, buf: backing, stopped: false}
  }
  // A file longer than the WAL's segments is scanned only up to the segment size when the excess is all zeros.
  const capacity = segmentSize > 0 && size > segmentSize && lastNonZeroEnd(data, segmentSize, size) < 0 ? segmentSize : size
  let stopped = false
  const onRecord = options.onRecord
  const visit = (offset: number, length: number, crc: number, resynced: boolean): boolean | void => {
    summary.payloadBytes += length
    if (resynced) summary.resyncedRecords++
    if (onRecord && onRecord(file.id, data, offset, length, crc, resynced) === false) {
      stopped = true
      return false
    }
  }
  let pending: DamagedRegion[] = []
  let reported = 0
  const report = (d: DamagedRegion): void => {
    summary.damagedBytes += d.end - d.offset
    mark({offset: d.offset, end: d.end, kind: d.kind, severity: d.hidesRecords ? 'damaged' : 'repairable', message: d.message})
  }
  // Damage with a valid record after it cannot be a record in flight: it is reported at once, in file order
  // between the records (dump streams it so). Only a tail is held back to settle.
  const onDamage = (d: DamagedRegion): void => {
    if (!d.hidesRecords) pending.push(d)
    else {
      reported++
      report(d)
    }
  }
  const scanOptions = {capacity, segmentSize: segmentSize || size, onRecord: visit, onDamage}
  let result = scanRecords(data, scanOptions)
  let records = result.records
  // A record being written looks like a torn tail: data and crc land before the length. Wait for it.
  const tries = isNewest ? options.settleTries ?? DEFAULT_SETTLE_TRIES : 0
  for (let attempt = 1; attempt <= tries && !stopped && !result.stopped && reported === 0 && pending.length === 1; attempt++) {
    sleepSync(options.settleMs ?? DEFAULT_SETTLE_MS)
    options.onSettle?.(file.id, attempt)
    summary.rereads = attempt
    const from = result.cleanEnd
    ;({backing, data} = readSegment(file.path, backing, from))
    if (data.length !== size) break
    pending = []
    result = scanRecords(data, {...scanOptions, start: from})
    records += result.records
  }
  for (const d of pending) report(d)
  summary.records = records
  summary.cleanEnd = result.cleanEnd
  summary.lastRecordEnd = result.lastRecordEnd
  return {summary, buf: backing, stopped: stopped || result.stopped}
}

function vanished(error: unknown, file: string): boolean {
  const cause = (error as {cause?: NodeJS.ErrnoException}).cause
  return cause?.code === 'ENOENT' && !fs.existsSync(file)
}

function headerSeverity(kind: HeaderProblemKind, data: Buffer, segmentSize: number): Severity {
  if (HEADER_FATAL.has(kind)) return 'damaged'
  if (kind === 'clock-skew') return 'warning'
  if (kind === 'size-mismatch') {
    // Shorter: zeros can be put back without losing a record. Longer: only if the excess is zeros.
    if (data.length < segmentSize) return 'repairable'
    return lastNonZeroEnd(data, segmentSize, data.length) < 0 ? 'repairable' : 'damaged'
  }
  return 'repairable'
}
