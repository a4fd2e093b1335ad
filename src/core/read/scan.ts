// The read-only scanner over a whole WAL directory (or one segment file):
// every segment's header, every record, every damaged region, every
// directory problem, each with what it costs. Reads with pread through one
// reused window of bounded size (read/file-window.ts), so memory does not
// grow with a segment's size; it never maps, opens for writing or changes a
// file. The scan runs as steps (between segments and windows) so that an
// async caller can let signal handlers run.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {processRuns, readAt, tempNamePid} from '../fs/files.js'
import {MIN_SEGMENT_SIZE, FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE, SegmentHeader, nowMicros} from '../format/format.js'
import {checkHeader, HeaderProblemKind, headerProblemMessage, headerProblemSeverity} from '../format/header-check.js'
import {listWal, resolveWalDir, SegmentFile, StrayFile, strayNoun} from './directory.js'
import {parseSegmentFileName, segmentFileName} from '../format/names.js'
import {CLEAN_PASS_WINDOW, FileWindow} from './file-window.js'
import {ByteSource} from './source.js'
import {DamagedRegion, RecordDamageKind, RecordScanner, RecordScanResult} from '../format/records.js'

export type DirectoryProblemKind = 'missing-segment' | 'stray-file' | 'no-segments' | 'unreadable-segment'
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
  /** missing-segment: the last id of the gap (`segment` is its first) and how many ids it spans. */
  last?: number
  count?: number
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

/** The visited record's payload, read only when asked for (a record may be longer than the window). */
export interface RecordPayload {
  bytes(): Buffer
}

export interface WalScanVisitor {
  onSegment?(segment: SegmentFile, header: SegmentHeader | undefined): void
  /** `payload.bytes()` gives the record's payload, valid only during the call. Return false to stop the scan. */
  onRecord?(segment: number, payload: RecordPayload, offset: number, length: number, crc32: number, resynced: boolean): boolean | void
  onProblem?(problem: Problem): void
  /** Called after each segment with its summary. */
  onSegmentEnd?(summary: SegmentSummary): void
}

export interface WalScanOptions extends WalScanVisitor {
  nowUs?: bigint
  clockSkewUs?: bigint
  /**
   * Only these segment ids (directory problems between them are still
   * reported). Asked once per segment, in order, just before it is scanned: a
   * parallel verify claims segments through it (read/segment-claims.ts).
   */
  segments?: Pick<ReadonlySet<number>, 'has'>
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
  /** scanWalAsync: called at each safe point (between segments and windows); throw to abort the scan. */
  checkpoint?(): void
  /**
   * Scan only what the small window of the clean pass can (a parallel verify's
   * workers): a segment that would need the full window (damage, or no clean
   * pass for it) is left out of the result, problems and all, and listed in
   * `deferred` for the caller to scan alone, after the others (parallel-verify.ts).
   */
  cleanOnly?: boolean
}

/** Bytes past the segment size checked for zeros between steps. */
const EXCESS_SLICE = 64 * 1024 * 1024

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
  /** Segments that could not be read (each also an `unreadable-segment` problem). */
  unreadable: WalError[]
  /** With `cleanOnly`: the segments left to the caller, in order. */
  deferred?: number[]
}

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
  // Only files that can hold a record tell the size: a header-only file (89 to 97 bytes) is a damaged segment, not the norm.
  for (const s of segments) if (s.size >= MIN_SEGMENT_SIZE) counts.set(s.size, (counts.get(s.size) ?? 0) + 1)
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
  const steps = scanSteps(input, options)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

/**
 * scanWal that lets the event loop turn between segments and between windows
 * of a large or damaged one (so signal handlers run), calling
 * `options.checkpoint` at each such point; a checkpoint that throws ends the
 * scan with its error, every file closed.
 */
export async function scanWalAsync(input: string, options: WalScanOptions = {}): Promise<WalScanResult> {
  const steps = scanSteps(input, options)
  try {
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
      await new Promise<void>((resolve) => setImmediate(resolve))
      options.checkpoint?.()
    }
  } finally {
    steps.return(undefined as never)
  }
}

/** The scan as steps: it yields between segments and between windows. */
function* scanSteps(input: string, options: WalScanOptions): Generator<void, WalScanResult> {
  const target = resolveScanTarget(input)
  if (target.file) return yield* scanSegments(target.dir, [target.file], [], target.file.size, options)
  const listing = listWal(target.dir)
  return yield* scanSegments(target.dir, listing.segments, listing.strays, nominalSegmentSize(listing.segments), options, true)
}

/** The ids a missing-segment problem stands for, enumerated lazily (a gap can span millions). */
export function* missingSegmentIds(p: Problem): Generator<number> {
  if (p.kind !== 'missing-segment' || p.segment === null) return
  for (let id = p.segment; id <= (p.last ?? p.segment); id++) yield id
}

/** One problem per gap in the ids, however long. */
function gapProblems(dir: string, files: readonly SegmentFile[]): Problem[] {
  const out: Problem[] = []
  for (let i = 1; i < files.length; i++) {
    const before = files[i - 1].id
    const after = files[i].id
    if (after - before < 2) continue
    const first = before + 1
    const last = after - 1
    const count = last - first + 1
    const between = `between ${segmentFileName(before)} and ${segmentFileName(after)}`
    out.push({segment: first, file: path.join(dir, segmentFileName(first)), offset: null, kind: 'missing-segment', severity: 'damaged', last, count,
      message: count === 1
        ? `segment ${first} is missing from the middle of the WAL (${between})`
        : `missing ${segmentFileName(first)}..${segmentFileName(last)} (${count} segments) from the middle of the WAL (${between})`})
  }
  return out
}

function* scanSegments(dir: string, files: SegmentFile[], strays: StrayFile[], segmentSize: number, options: WalScanOptions, isDir = false): Generator<void, WalScanResult> {
  const problems: Problem[] = []
  const segments: SegmentSummary[] = []
  const unreadable: WalError[] = []
  let verdict: Verdict = 'clean'
  let records = 0
  let payloadBytes = 0
  let stopped = false
  const deferred: number[] = []
  // A deferred segment's problems are another thread's to report: held until its scan ends.
  let held: Problem[] | undefined
  const add = (p: Problem): void => {
    if (held) {
      held.push(p)
      return
    }
    problems.push(p)
    verdict = worst(verdict, p.severity)
    options.onProblem?.(p)
  }
  if (isDir && files.length === 0) {
    add({segment: null, file: dir, offset: null, kind: 'no-segments', severity: 'damaged', message: 'no WAL segments (wal_NNNNNN.log) in this directory'})
  }
  for (const s of strays) {
    add({segment: null, file: s.path, offset: null, kind: 'stray-file', severity: 'warning', message: strayMessage(s)})
  }
  for (const gap of gapProblems(dir, files)) add(gap)
  const nowUs = options.nowUs ?? nowMicros()
  const reuse: ScanWindows = {}
  const newest = files.at(-1)?.id
  // A segment that vanished between the listing and its read, with every older one gone too, was
  // collected by a concurrent gc (readers take no lock); one gone from anywhere else is still an error.
  for (const [index, file] of files.entries()) {
    if (options.segments && !options.segments.has(file.id)) continue
    let summary: {summary: SegmentSummary; stopped: boolean; deferred?: boolean}
    held = options.cleanOnly ? [] : undefined
    try {
      summary = yield* scanOneSegment(file, segmentSize, nowUs, options, reuse, add, file.id === newest)
    } catch (error) {
      // What was found before the error stays this thread's to report, as without cleanOnly.
      const early = held ?? []
      held = undefined
      for (const p of early) add(p)
      if (file.id !== newest && vanished(error, file.path) && files.slice(0, index).every((f) => !fs.existsSync(f.path))) continue
      // A segment gone from the middle of the WAL while it was read is an error naming it, as before.
      if (!(error instanceof WalError) || errnoOf(error) === 'ENOENT') throw error
      // Unreadable (permissions, not a file, an I/O error): reported, and the scan goes on with the next segment.
      unreadable.push(error)
      add({segment: file.id, file: file.path, offset: null, kind: 'unreadable-segment', severity: 'damaged', message: reasonOf(error, file.path)})
      continue
    }
    const mine = held
    held = undefined
    if (summary.deferred) {
      deferred.push(file.id)
      yield
      continue
    }
    for (const p of mine ?? []) add(p)
    segments.push(summary.summary)
    records += summary.summary.records
    payloadBytes += summary.summary.payloadBytes
    options.onSegmentEnd?.(summary.summary)
    if (summary.stopped) {
      stopped = true
      break
    }
    yield
  }
  return {dir, segmentSize, segments, problems, records, payloadBytes, verdict, stopped, unreadable, ...(options.cleanOnly ? {deferred} : {})}
}

/** A WalError's reason without the file name it starts with. */
function reasonOf(error: WalError, file: string): string {
  return error.message.startsWith(`${file}: `) ? error.message.slice(file.length + 2) : error.message
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

/** The payload of the record being visited, read on request: a view into the window when it is loaded. */
class Payload implements RecordPayload {
  offset = 0
  length = 0
  constructor(private readonly src: ByteSource) {}

  bytes(): Buffer {
    return this.src.bytes(this.offset + RECORD_HEADER_SIZE, this.offset + RECORD_HEADER_SIZE + this.length)
  }
}

/** The windows' buffers, reused from one segment to the next. */
interface ScanWindows {
  buf?: Buffer
  clean?: Buffer
}

/**
 * Most segments are undamaged, and most scans want no record's bytes: such a
 * segment is scanned first through a small window, which keeps what pread
 * copies in cache (file-window.ts). The first damage ends that pass
 * (undefined), and the caller scans the segment again through the full
 * window, so that what resync finds past damage, and what it costs, do not
 * depend on this pass: records up to half the full window are found there,
 * where this window would find only those up to half of its own.
 */
function* cleanPass(fd: number, capacity: number, segmentSize: number, file: string, reuse: ScanWindows): Generator<void, Pick<SegmentSummary, 'records' | 'payloadBytes' | 'cleanEnd' | 'lastRecordEnd'> | undefined> {
  const src = new FileWindow(fd, capacity, file, reuse.clean, CLEAN_PASS_WINDOW)
  reuse.clean = src.buf
  src.load(0)
  let damaged = false
  const scanner = new RecordScanner(src, {capacity, segmentSize, onDamage: () => void (damaged = true)})
  while (!scanner.run(true)) {
    if (damaged) return undefined
    yield
  }
  const result = scanner.result()
  if (damaged || result.damage.length > 0) return undefined
  return {records: result.records, payloadBytes: result.payloadBytes, cleanEnd: result.cleanEnd, lastRecordEnd: result.lastRecordEnd}
}

function* scanOneSegment(file: SegmentFile, segmentSize: number, nowUs: bigint, options: WalScanOptions, reuse: ScanWindows, add: (p: Problem) => void, isNewest: boolean): Generator<void, {summary: SegmentSummary; stopped: boolean; deferred?: boolean}> {
  let fd: number
  try {
    fd = fs.openSync(file.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (error) {
    throw fsError(error, file.path, 'open for reading')
  }
  try {
    let size: number
    try {
      const st = fs.fstatSync(fd)
      if (!st.isFile()) throw new WalError(ExitCode.NO_INPUT, st.isDirectory() ? 'is a directory, expected a segment file' : 'not a regular file', {file: file.path})
      size = st.size
    } catch (error) {
      throw fsError(error, file.path, 'stat')
    }
    return yield* scanOpenSegment(file, fd, size, segmentSize, nowUs, options, reuse, add, isNewest)
  } finally {
    fs.closeSync(fd)
  }
}

function* scanOpenSegment(file: SegmentFile, fd: number, size: number, segmentSize: number, nowUs: bigint, options: WalScanOptions, reuse: ScanWindows, add: (p: Problem) => void, isNewest: boolean): Generator<void, {summary: SegmentSummary; stopped: boolean; deferred?: boolean}> {
  // The header and the zeros past the segment size are read apart, so the window holds only what is scanned.
  const whole = new FileWindow(fd, size, file.path, undefined, 0)
  const summary: SegmentSummary = {id: file.id, file: file.path, size, records: 0, payloadBytes: 0, cleanEnd: Math.min(size, FIRST_RECORD_OFFSET), lastRecordEnd: Math.min(size, FIRST_RECORD_OFFSET), resyncedRecords: 0, damagedBytes: 0, rereads: 0, verdict: 'clean'}
  const mark = (p: Omit<Problem, 'segment' | 'file'>): void => {
    const full: Problem = {segment: file.id, file: file.path, ...p}
    summary.verdict = worst(summary.verdict, p.severity)
    add(full)
  }
  const {header, problems} = checkHeader(whole.bytes(0, Math.min(size, FIRST_RECORD_OFFSET)), size, {segmentSize: segmentSize || undefined, nowUs, clockSkewUs: options.clockSkewUs})
  summary.header = header
  options.onSegment?.(file, header)
  // A file longer than the WAL's segments is scanned only up to the segment size when the excess is all zeros
  // (looked through a slice at a time: a sparse file may hold gigabytes of them).
  let excessIsZero = segmentSize > 0 && size > segmentSize
  for (let end = size; excessIsZero && end > segmentSize; end -= EXCESS_SLICE) {
    excessIsZero = whole.lastNonZeroEnd(Math.max(segmentSize, end - EXCESS_SLICE), end) < 0
    yield
  }
  for (const p of problems) {
    mark({offset: p.offset, kind: p.kind, severity: headerProblemSeverity(p.kind, {fileSize: size, segmentSize, excessIsZero}), message: headerProblemMessage(p)})
  }
  if (size < FIRST_RECORD_OFFSET) {
    summary.damagedBytes = size
    return {summary, stopped: false}
  }
  const capacity = excessIsZero ? segmentSize : size
  // A file that is not a segment (bad magic) is that one problem: its bytes past the header are not record damage.
  const notSegment = problems.some((p) => p.kind === 'bad-magic')
  if (!options.onRecord && !notSegment && capacity > CLEAN_PASS_WINDOW) {
    const clean = yield* cleanPass(fd, capacity, segmentSize || size, file.path, reuse)
    if (clean) {
      Object.assign(summary, clean)
      return {summary, stopped: false}
    }
  }
  if (options.cleanOnly && capacity > CLEAN_PASS_WINDOW) return {summary, stopped: false, deferred: true}
  const src = new FileWindow(fd, capacity, file.path, reuse.buf)
  reuse.buf = src.buf
  src.load(0)
  let stopped = false
  const onRecord = options.onRecord
  const payload = new Payload(src)
  // Only a caller that looks at records gets a call per record: counting them is the scanner's (see RecordScanResult).
  const visit = onRecord && ((offset: number, length: number, crc: number, resynced: boolean): boolean | void => {
    payload.offset = offset
    payload.length = length
    if (onRecord(file.id, payload, offset, length, crc, resynced) === false) {
      stopped = true
      return false
    }
  })
  let pending: DamagedRegion[] = []
  let reported = 0
  const report = (d: DamagedRegion): void => {
    summary.damagedBytes += d.end - d.offset
    mark({offset: d.offset, end: d.end, kind: d.kind, severity: d.hidesRecords ? 'damaged' : 'repairable', message: d.message})
  }
  // Damage with a valid record after it cannot be a record in flight: it is reported at once, in file order
  // between the records (dump streams it so). Only a tail is held back to settle.
  const onDamage = (d: DamagedRegion): void => {
    if (notSegment) return
    if (!d.hidesRecords) pending.push(d)
    else {
      reported++
      report(d)
    }
  }
  const scanOptions = {capacity, segmentSize: segmentSize || size, onRecord: visit, onDamage}
  let scanner = new RecordScanner(src, scanOptions)
  while (!scanner.run(true)) yield
  let result = scanner.result()
  let records = result.records
  const count = (r: RecordScanResult): void => {
    summary.payloadBytes += r.payloadBytes
    summary.resyncedRecords += r.resyncedRecords
  }
  count(result)
  // A record being written looks like a torn tail: data and crc land before the length. Wait for it.
  const tries = isNewest ? options.settleTries ?? DEFAULT_SETTLE_TRIES : 0
  for (let attempt = 1; attempt <= tries && !stopped && !result.stopped && reported === 0 && pending.length === 1; attempt++) {
    sleepSync(options.settleMs ?? DEFAULT_SETTLE_MS)
    options.onSettle?.(file.id, attempt)
    summary.rereads = attempt
    const from = result.cleanEnd
    if (whole.currentSize() !== size) break
    src.load(from)
    pending = []
    scanner = new RecordScanner(src, {...scanOptions, start: from})
    while (!scanner.run(true)) yield
    result = scanner.result()
    records += result.records
    count(result)
  }
  for (const d of pending) report(d)
  summary.records = records
  summary.cleanEnd = result.cleanEnd
  summary.lastRecordEnd = result.lastRecordEnd
  return {summary, stopped: stopped || result.stopped}
}

function errnoOf(error: unknown): string | undefined {
  return (error as {cause?: NodeJS.ErrnoException}).cause?.code
}

function vanished(error: unknown, file: string): boolean {
  return errnoOf(error) === 'ENOENT' && !fs.existsSync(file)
}

/** What a stray is: a temporary of a writer still at work, one left by a walctl that died, or anything else. */
function strayMessage(s: StrayFile): string {
  if (s.kind !== 'temporary') return `stray ${strayNoun(s.kind)} in the WAL directory; Shardex ignores it`
  const pid = tempNamePid(s.name)
  if (pid !== undefined && processRuns(pid)) return `a segment walctl (pid ${pid}) is preparing or creating, not yet part of the WAL; Shardex ignores it`
  return 'temporary file left by an interrupted walctl (a segment create or rewrite); Shardex ignores it, and the next walctl writer removes it'
}
