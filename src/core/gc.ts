// Segment cleanup: which old segments may go, by retention policy and flush
// point, and removing (or archiving) them oldest first. Reads the directory
// and scans the segments that stay; changes nothing on a dry run. A caller
// that changes anything holds the writer lock (lock.ts).
//
// Policies combine as retention settings usually do: the pressures
// (--max-total-size, --max-age) each ask for old segments to go, and the
// larger ask wins; the limits (--upto, --keep) each protect segments and the
// stricter one wins. Given only limits, the limits themselves are the ask.
// Whatever is asked, gc removes a prefix (oldest first, contiguous), never the
// newest segment, never the segment holding --upto or any after it.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from './errors.js'
import {fsyncDir, readAt} from './files.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from './format.js'
import {listWal, SegmentFile} from './directory.js'
import {formatPosition, Position, segmentFileName} from './names.js'
import {Problem, scanWal, SegmentSummary} from './scan.js'
import {formatBytes} from './units.js'

export type GcPolicy = 'upto' | 'keep' | 'max-total-size' | 'max-age' | 'archived'

export interface GcOptions {
  /** The flush point: every segment whose records all lie before it may go. */
  upto?: Position
  /** Keep at least the newest N segments (N >= 1). */
  keep?: number
  /** Remove the oldest segments until the segments' total size is at most this many bytes. */
  maxTotalSize?: number
  /** Remove the oldest segments last written (file mtime) longer ago than this many milliseconds. */
  maxAgeMs?: number
  /**
   * --archived: how many of the oldest segments an archive holds with the same
   * bytes (src/core/archive/gc-archived.ts), and why no more; gc never removes
   * more than these, whatever the other policies ask.
   */
  archived?: {count: number; target: string; stoppedAt?: string}
  /** Move the segments into this directory (copy, fsync, then remove) instead of deleting them. */
  archiveDir?: string
  /** Say what would go; change nothing. */
  dryRun?: boolean
  /** Remove even when the segments are not a clean prefix (a missing id, or damage after them). */
  force?: boolean
  /** The clock for --max-age, in milliseconds since the epoch. */
  nowMs?: number
  /** Progress hooks: the segments about to be scanned for the clean-prefix check, then each one scanned. */
  onScanStart?: (total: {segments: number; bytes: number}) => void
  onSegmentEnd?: (summary: SegmentSummary) => void
}

export interface GcSegment {
  id: number
  name: string
  file: string
  size: number
  /** Last write (file mtime), ISO 8601. */
  lastWrite: string
  /** The policies that ask for it to go. */
  policies: GcPolicy[]
  /** Its copy, with --archive. */
  archivedTo?: string
}

export interface GcResult {
  dir: string
  dryRun: boolean
  action: 'delete' | 'archive'
  archiveDir: string | null
  /** Removed or archived (or, on a dry run, would be), oldest first. */
  segments: GcSegment[]
  bytesFreed: number
  kept: {count: number; first: number | null; last: number | null; bytes: number}
  /** Why gc stopped where it did, when a policy asked for more. */
  notes: string[]
  /** Refusals overridden by --force. */
  forced: string[]
}

interface Candidate extends SegmentFile {
  mtimeMs: number
}

/** Removes or archives old segments of the WAL directory `dir` by the given policies. */
export function collectGarbage(dir: string, options: GcOptions): GcResult {
  checkOptions(options)
  const archiveDir = options.archiveDir === undefined ? null : path.resolve(options.archiveDir)
  if (archiveDir) checkArchiveDir(dir, archiveDir)
  const segs = statSegments(listWal(dir).segments)
  if (segs.length === 0) throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here', {file: dir})
  const {count, policiesOf, notes} = choose(segs, options)
  const removed = segs.slice(0, count)
  const kept = segs.slice(count)
  const forced = checkCleanPrefix(dir, segs, count, options)
  const result: GcResult = {
    dir,
    dryRun: options.dryRun ?? false,
    action: archiveDir ? 'archive' : 'delete',
    archiveDir,
    segments: removed.map((s, i) => ({id: s.id, name: s.name, file: s.path, size: s.size, lastWrite: new Date(s.mtimeMs).toISOString(), policies: policiesOf(i)})),
    bytesFreed: removed.reduce((n, s) => n + s.size, 0),
    kept: {count: kept.length, first: kept[0]?.id ?? null, last: kept.at(-1)?.id ?? null, bytes: kept.reduce((n, s) => n + s.size, 0)},
    notes,
    forced,
  }
  if (archiveDir) {
    for (const s of result.segments) s.archivedTo = path.join(archiveDir, s.name)
    checkArchiveTargets(archiveDir, removed)
  }
  if (result.dryRun || removed.length === 0) return result
  remove(dir, removed, archiveDir)
  return result
}

function checkOptions(o: GcOptions): void {
  if (o.upto === undefined && o.keep === undefined && o.maxTotalSize === undefined && o.maxAgeMs === undefined && o.archived === undefined) {
    throw new WalError(ExitCode.USAGE, 'no policy given: use --upto POS, --keep N, --max-total-size SIZE, --max-age DURATION and/or --archived TARGET')
  }
  if (o.keep !== undefined && (!Number.isSafeInteger(o.keep) || o.keep < 1)) throw new WalError(ExitCode.USAGE, `--keep ${o.keep}: keep at least 1 segment (gc never removes the newest)`)
  if (o.maxTotalSize !== undefined && !(o.maxTotalSize >= 0)) throw new WalError(ExitCode.USAGE, `--max-total-size ${o.maxTotalSize}: expected a size of 0 bytes or more`)
  if (o.maxAgeMs !== undefined && !(o.maxAgeMs >= 0)) throw new WalError(ExitCode.USAGE, `--max-age ${o.maxAgeMs}: expected a duration of 0 or more`)
}

function statSegments(files: readonly SegmentFile[]): Candidate[] {
  const out: Candidate[] = []
  for (const f of files) {
    try {
      const st = fs.statSync(f.path)
      out.push({...f, size: st.size, mtimeMs: st.mtimeMs})
    } catch (error) {
      throw fsError(error, f.path, 'stat')
    }
  }
  return out
}

/** How many of the oldest segments go, which policies ask for each, and why no more. */
function choose(segs: Candidate[], o: GcOptions): {count: number; policiesOf: (index: number) => GcPolicy[]; notes: string[]} {
  const notes: string[] = []
  const asks = new Map<GcPolicy, number>()
  const newest = segs.at(-1)!
  if (o.upto !== undefined) {
    if (o.upto.segment > newest.id) {
      throw new WalError(ExitCode.DATA, `--upto ${formatPosition(o.upto)} is past the end of the WAL: the newest segment is ${newest.id} (${newest.name})`, {file: newest.path})
    }
    asks.set('upto', segs.filter((s) => s.id < o.upto!.segment).length)
  }
  if (o.keep !== undefined) asks.set('keep', Math.max(0, segs.length - o.keep))
  if (o.maxTotalSize !== undefined) {
    let total = segs.reduce((n, s) => n + s.size, 0)
    let n = 0
    while (n < segs.length && total > o.maxTotalSize) total -= segs[n++].size
    asks.set('max-total-size', n)
  }
  if (o.maxAgeMs !== undefined) {
    const cutoff = (o.nowMs ?? Date.now()) - o.maxAgeMs
    let n = 0
    while (n < segs.length && segs[n].mtimeMs < cutoff) n++
    if (n < segs.length && segs.slice(n + 1).some((s) => s.mtimeMs < cutoff)) {
      notes.push(`${segs[n].name} was written after the cutoff and stops --max-age: gc removes only the oldest segments, contiguously; newer ones past it that are old enough stay`)
    }
    asks.set('max-age', n)
  }
  if (o.archived !== undefined) asks.set('archived', o.archived.count)
  const pressures = (['max-total-size', 'max-age'] as const).filter((p) => asks.has(p))
  const limits = (['upto', 'keep', 'archived'] as const).filter((p) => asks.has(p))
  let count = pressures.length > 0 ? Math.max(...pressures.map((p) => asks.get(p)!)) : segs.length
  for (const p of limits) {
    const limit = asks.get(p)!
    if (limit < count && p === 'archived') notes.push(`--archived keeps ${count - limit} segment(s): ${o.archived!.stoppedAt ?? 'not archived yet'}`)
    else if (limit < count && pressures.length > 0) notes.push(`${p === 'upto' ? `--upto ${formatPosition(o.upto!)}` : `--keep ${o.keep}`} keeps ${count - limit} segment(s) the other policies would remove`)
    count = Math.min(count, limit)
  }
  if (count >= segs.length) {
    count = segs.length - 1
    notes.push(`the newest segment, ${newest.name}, is always kept`)
  }
  if (o.maxTotalSize !== undefined) {
    const left = segs.slice(count).reduce((n, s) => n + s.size, 0)
    if (left > o.maxTotalSize) notes.push(`the WAL still takes ${formatBytes(left)}, more than --max-total-size ${formatBytes(o.maxTotalSize)}`)
  }
  const policiesOf = (i: number): GcPolicy[] => [...asks].filter(([, n]) => i < n).map(([p]) => p)
  return {count, policiesOf, notes}
}

/**
 * Refuses (exit 2) unless the segments that go are a clean prefix: no id
 * missing among or after them, no damage that verify calls damaged in a
 * segment that stays. Also checks that --upto names a record boundary. Returns
 * the refusals --force overrode.
 */
function checkCleanPrefix(dir: string, segs: Candidate[], count: number, o: GcOptions): string[] {
  const uptoSeg = o.upto === undefined ? undefined : segs.find((s) => s.id === o.upto!.segment)
  const ids = new Set(count > 0 ? segs.slice(count).map((s) => s.id) : [])
  if (uptoSeg) ids.add(uptoSeg.id)
  if (ids.size === 0) return []
  const boundaries = new Set<number>()
  o.onScanStart?.({segments: ids.size, bytes: segs.filter((s) => ids.has(s.id)).reduce((n, s) => n + s.size, 0)})
  const scan = scanWal(dir, {
    segments: ids,
    onRecord: (segment, _buf, offset) => {
      if (segment === uptoSeg?.id) boundaries.add(offset)
    },
    onSegmentEnd: o.onSegmentEnd,
  })
  if (uptoSeg && o.upto) checkBoundary(o.upto, uptoSeg, boundaries, scan.segments.find((s) => s.id === uptoSeg.id)?.cleanEnd)
  if (count === 0) return []
  const firstKept = segs[count].id
  const damaged = scan.problems.filter((p) => p.severity === 'damaged' && p.segment !== null && (ids.has(p.segment) || p.kind === 'missing-segment'))
  if (damaged.length === 0) return []
  const range = segmentRange(segs[0].id, segs[count - 1].id)
  const why = damaged.map((p) => describeProblem(p, firstKept))
  if (o.force) return why
  const p = damaged[0]
  const more = damaged.length > 1 ? ` (and ${damaged.length - 1} more problem(s))` : ''
  throw new WalError(ExitCode.DAMAGED, `refusing to remove ${range}: ${why[0]}${more}; 'walctl verify' calls this damaged, and the older segments may be needed to recover from it; pass --force to remove them anyway`, {
    file: p.file, offset: p.offset ?? undefined, segment: p.segment ?? undefined,
  })
}

function describeProblem(p: Problem, firstKept: number): string {
  if (p.kind === 'missing-segment') {
    return p.segment! < firstKept ? `segment ${p.segment} is missing, so they are not a contiguous prefix` : `segment ${p.segment} is missing after them`
  }
  const where = p.offset === null ? '' : ` at offset ${p.offset}`
  return `${path.basename(p.file)} is damaged${where} (${p.kind}: ${p.message})`
}

function checkBoundary(upto: Position, seg: Candidate, boundaries: Set<number>, cleanEnd: number | undefined): void {
  const at = upto.offset
  if (at <= FIRST_RECORD_OFFSET || boundaries.has(at) || at === cleanEnd) return
  const end = cleanEnd ?? FIRST_RECORD_OFFSET
  let reason: string
  if (at > end) reason = `is past the end of ${seg.name}'s records (they end at ${seg.id}:${end})`
  else if (boundaries.has(at - RECORD_HEADER_SIZE)) reason = `is a record's data offset, as Shardex's append returns it; its record starts at ${seg.id}:${at - RECORD_HEADER_SIZE}`
  else reason = `is not where a record starts in ${seg.name}`
  throw new WalError(ExitCode.DATA, `--upto ${formatPosition(upto)} ${reason}; give the position of a record (as append prints it) or the end of the segment's records`, {file: seg.path, offset: at, segment: seg.id})
}

/** Refuses an archive that is the WAL itself, or not a directory. */
function checkArchiveDir(dir: string, archiveDir: string): void {
  if (!fs.existsSync(archiveDir)) return
  if (!fs.statSync(archiveDir).isDirectory()) throw new WalError(ExitCode.CANT_CREATE, '--archive: not a directory', {file: archiveDir})
  if (fs.realpathSync(archiveDir) === fs.realpathSync(dir)) throw new WalError(ExitCode.USAGE, '--archive: that is the WAL directory itself; give another directory', {file: archiveDir})
}

/** Refuses an archive that holds a different file under a segment's name. */
function checkArchiveTargets(archiveDir: string, segs: Candidate[]): void {
  for (const s of segs) {
    const target = path.join(archiveDir, s.name)
    if (fs.existsSync(target) && !sameBytes(s.path, target)) {
      throw new WalError(ExitCode.CANT_CREATE, `--archive: a different ${s.name} is already there; nothing was removed`, {file: target})
    }
  }
}

function remove(dir: string, segs: Candidate[], archiveDir: string | null): void {
  if (archiveDir) {
    try {
      fs.mkdirSync(archiveDir, {recursive: true})
    } catch (error) {
      throw fsError(error, archiveDir, 'create the archive directory', ExitCode.CANT_CREATE)
    }
  }
  let done = 0
  try {
    for (const s of segs) {
      if (archiveDir) archiveCopy(s, path.join(archiveDir, s.name))
      try {
        fs.unlinkSync(s.path)
      } catch (error) {
        throw fsError(error, s.path, 'remove')
      }
      // Each removal is made durable before the next: a crash leaves a prefix removed, never a gap.
      fsyncDir(dir)
      done++
    }
  } catch (error) {
    if (done === 0 || !(error instanceof WalError)) throw error
    throw new WalError(error.exitCode, `${error.message}; ${done} older segment(s) (${segmentRange(segs[0].id, segs[done - 1].id)}) were already ${archiveDir ? 'archived' : 'removed'}`)
  }
}

/** Copies a segment into the archive durably (temporary file, fsync, link into place, fsync the directory). */
function archiveCopy(s: Candidate, target: string): void {
  if (fs.existsSync(target)) return // the same bytes, checked before anything changed: a rerun after an interruption
  const temp = `${target}.${process.pid}.tmp`
  try {
    fs.copyFileSync(s.path, temp, fs.constants.COPYFILE_EXCL)
    const fd = fs.openSync(temp, 'r+')
    try {
      if (fs.fstatSync(fd).size !== s.size) throw new WalError(ExitCode.IO, `the copy of ${s.name} is ${fs.fstatSync(fd).size} bytes, not ${s.size}`, {file: temp})
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    // link refuses to replace a file that appeared meanwhile, where rename would not.
    fs.linkSync(temp, target)
  } catch (error) {
    throw fsError(error, temp, `archive ${s.name}`, ExitCode.CANT_CREATE)
  } finally {
    fs.rmSync(temp, {force: true})
  }
  fsyncDir(path.dirname(target))
}

function sameBytes(a: string, b: string): boolean {
  const sa = fs.statSync(a)
  const sb = fs.statSync(b)
  if (!sb.isFile() || sa.size !== sb.size) return false
  const chunk = 1 << 20
  const ba = Buffer.allocUnsafe(chunk)
  const bb = Buffer.allocUnsafe(chunk)
  const fa = fs.openSync(a, 'r')
  const fb = fs.openSync(b, 'r')
  try {
    for (let pos = 0; pos < sa.size; pos += chunk) {
      if (!readAt(fa, pos, chunk, ba).equals(readAt(fb, pos, chunk, bb))) return false
    }
    return true
  } finally {
    fs.closeSync(fa)
    fs.closeSync(fb)
  }
}

/** `wal_000001.log..wal_000003.log`, for messages. */
export function segmentRange(first: number, last: number): string {
  return first === last ? segmentFileName(first) : `${segmentFileName(first)}..${segmentFileName(last)}`
}
