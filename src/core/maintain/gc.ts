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
//
// What may not go without --force: a segment with no write permission bits
// (an operator's chmod a-w), and a segment that holds damage or records
// found only past damage (Shardex skips those on replay, so they may never
// have reached the index). Segments are removed only after an lstat shows the
// same regular file that was listed; --archive copies through temporaries of
// walctl's own (`.wal_NNNNNN.log.walctl-<pid>-<random>.tmp`, exclusive) into
// a real directory, never through a link.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {copyFd, fsyncDir, processRuns, readAt, tempNameFor, tempNamePid} from '../fs/files.js'
import {applyOwnership, dirModeWithin, isRoot, makeDirs, ownershipOf} from '../fs/owner.js'
import {checkDirOrAbsent, createExclusive, isProtected, lstatOrUndefined, notRegular, openForReading, unlinkRegular} from '../fs/safe-open.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../format/format.js'
import {listWal, SegmentFile} from '../read/directory.js'
import {formatPosition, Position, segmentFileName} from '../format/names.js'
import {Problem, scanWal, SegmentSummary} from '../read/scan.js'
import {formatBytes} from '../format/units.js'

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
  /** Why it goes, in words: `older than --keep 2`, `before --upto 5:89`. */
  reason: string
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
  stat: fs.Stats
}

/** Removes or archives old segments of the WAL directory `dir` by the given policies. */
export function collectGarbage(dir: string, options: GcOptions): GcResult {
  const {result, steps} = planAndRemove(dir, options)
  for (const _ of steps) {
    // Synchronous: nothing can interrupt between removals.
  }
  return result
}

/**
 * collectGarbage, stopping at a safe point between two removals when
 * `checkpoint` throws (a signal): the segments removed so far are a durable
 * prefix, and the error says how many went.
 */
export async function collectGarbageAsync(dir: string, options: GcOptions & {checkpoint?: () => Promise<void>}): Promise<GcResult> {
  const {result, steps} = planAndRemove(dir, options)
  let done = 0
  for (const _ of steps) {
    done++
    try {
      await options.checkpoint?.()
    } catch (error) {
      if (!(error instanceof WalError)) throw error
      const s = result.segments
      throw new WalError(error.exitCode, `${error.message}; ${done} of ${s.length} segment(s) (${segmentRange(s[0].id, s[done - 1].id)}) were ${result.action === 'archive' ? 'archived' : 'removed'}, a prefix, durably`)
    }
  }
  return result
}

function planAndRemove(dir: string, options: GcOptions): {result: GcResult; steps: Iterable<void>} {
  checkOptions(options)
  const archiveDir = options.archiveDir === undefined ? null : path.resolve(options.archiveDir)
  if (archiveDir) checkArchiveDir(dir, archiveDir)
  const segs = statSegments(listWal(dir).segments)
  if (segs.length === 0) throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here', {file: dir})
  const {count, policiesOf, notes} = choose(segs, options)
  const removed = segs.slice(0, count)
  const kept = segs.slice(count)
  const forced = [...checkProtected(removed, options), ...checkCleanPrefix(dir, segs, count, options)]
  const result: GcResult = {
    dir,
    dryRun: options.dryRun ?? false,
    action: archiveDir ? 'archive' : 'delete',
    archiveDir,
    segments: removed.map((s, i) => ({id: s.id, name: s.name, file: s.path, size: s.size, lastWrite: new Date(s.mtimeMs).toISOString(), policies: policiesOf(i), reason: reasonText(policiesOf(i), options)})),
    bytesFreed: removed.reduce((n, s) => n + s.size, 0),
    kept: {count: kept.length, first: kept[0]?.id ?? null, last: kept.at(-1)?.id ?? null, bytes: kept.reduce((n, s) => n + s.size, 0)},
    notes,
    forced,
  }
  if (archiveDir) {
    for (const s of result.segments) s.archivedTo = path.join(archiveDir, s.name)
    checkArchiveTargets(archiveDir, removed)
  }
  if (result.dryRun || removed.length === 0) return {result, steps: []}
  if (archiveDir) {
    makeDirs(archiveDir, archiveDirOptions(dir), 'create the archive directory')
    const leftovers = removeLeftovers(archiveDir)
    if (leftovers > 0) notes.push(`removed ${leftovers} temporary file(s) left in ${archiveDir} by an interrupted gc --archive`)
  }
  return {result, steps: remove(dir, removed, archiveDir)}
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
    let st: fs.Stats
    try {
      st = fs.lstatSync(f.path)
    } catch (error) {
      throw fsError(error, f.path, 'stat')
    }
    if (!st.isFile()) throw notRegular(f.path, st, 'remove')
    out.push({...f, size: st.size, mtimeMs: st.mtimeMs, stat: st})
  }
  return out
}

/** `older than --keep 2; before --upto 5:89`: the policies that ask for a segment to go, in words. */
function reasonText(policies: GcPolicy[], o: GcOptions): string {
  const words: Record<GcPolicy, () => string> = {
    upto: () => `before --upto ${formatPosition(o.upto!)}`,
    keep: () => `older than --keep ${o.keep}`,
    'max-total-size': () => `over --max-total-size ${formatBytes(o.maxTotalSize!)}`,
    'max-age': () => `older than --max-age ${formatAge(o.maxAgeMs!)}`,
    archived: () => `archived in ${o.archived!.target} with the same bytes`,
  }
  return policies.map((p) => words[p]()).join('; ')
}

function formatAge(ms: number): string {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= n && ms % n === 0) return `${ms / n}${unit}`
  }
  return `${ms}ms`
}

/** Refuses (exit 2) to remove a segment without write permission bits, unless --force. */
function checkProtected(removed: Candidate[], o: GcOptions): string[] {
  const protectedSegs = removed.filter((s) => isProtected(s.stat))
  if (protectedSegs.length === 0) return []
  const why = protectedSegs.map((s) => `${s.name} has no write permission (mode ${(s.stat.mode & 0o7777).toString(8).padStart(4, '0')})`)
  if (o.force) return why
  const s = protectedSegs[0]
  const more = protectedSegs.length > 1 ? ` (and ${protectedSegs.length - 1} more such segment(s))` : ''
  throw new WalError(ExitCode.DAMAGED, `refusing to remove ${s.name}: it ${why[0].slice(s.name.length + 1)}, as an operator protects a file${more}; nothing was removed; pass --force to remove it anyway`, {file: s.path, segment: s.id})
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
  // The segments that go are scanned too: gc must not remove records nobody ever replayed.
  const ids = new Set(count > 0 ? segs.map((s) => s.id) : [])
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
  const goneIds = new Set(segs.slice(0, count).map((s) => s.id))
  const forced = checkRemovedHoldNoDamage(scan.problems, scan.segments, goneIds, o)
  const damaged = scan.problems.filter((p) => p.severity === 'damaged' && p.segment !== null && ((ids.has(p.segment) && !goneIds.has(p.segment)) || p.kind === 'missing-segment'))
  if (damaged.length === 0) return forced
  const range = segmentRange(segs[0].id, segs[count - 1].id)
  const why = damaged.map((p) => describeProblem(p, firstKept))
  if (o.force) return [...forced, ...why]
  const p = damaged[0]
  const more = damaged.length > 1 ? ` (and ${damaged.length - 1} more problem(s))` : ''
  throw new WalError(ExitCode.DAMAGED, `refusing to remove ${range}: ${why[0]}${more}; 'walctl verify' calls this damaged, and the older segments may be needed to recover from it; pass --force to remove them anyway`, {
    file: p.file, offset: p.offset ?? undefined, segment: p.segment ?? undefined,
  })
}

/**
 * Refuses (exit 2) to remove a segment holding damage verify calls damaged,
 * or records found only past damage, unless --force. Returns what --force overrode.
 */
function checkRemovedHoldNoDamage(problems: Problem[], summaries: SegmentSummary[], gone: Set<number>, o: GcOptions): string[] {
  const why: Array<{text: string; holds: string; problem?: Problem; summary: SegmentSummary}> = []
  for (const s of summaries) {
    if (!gone.has(s.id)) continue
    const damage = problems.find((p) => p.segment === s.id && p.severity === 'damaged')
    if (!damage && s.resyncedRecords === 0) continue
    const parts: string[] = []
    if (damage) parts.push(`damage at offset ${damage.offset ?? 0} (${damage.kind}: ${damage.message})`)
    if (s.resyncedRecords > 0) parts.push(`${s.resyncedRecords} record(s) found only past damage, which Shardex skips on replay, so they may never have reached its index`)
    why.push({text: `${path.basename(s.file)} holds ${parts.join(' and ')}`, holds: parts.join(' and '), problem: damage, summary: s})
  }
  if (why.length === 0 || o.force) return why.map((w) => w.text)
  const first = why[0]
  const more = why.length > 1 ? ` (and ${why.length - 1} more such segment(s))` : ''
  throw new WalError(ExitCode.DAMAGED, `refusing to remove ${path.basename(first.summary.file)}: it holds ${first.holds}${more}; nothing was removed; see them with 'walctl dump', keep them with 'walctl recover --mode salvage', or pass --force to remove the segment anyway`, {
    file: first.summary.file, segment: first.summary.id, offset: first.problem?.offset ?? undefined,
  })
}

function describeProblem(p: Problem, firstKept: number): string {
  if (p.kind === 'missing-segment') {
    const what = (p.count ?? 1) > 1 ? `segments ${p.segment} to ${p.last} (${p.count}) are missing` : `segment ${p.segment} is missing`
    return p.segment! < firstKept ? `${what}, so they are not a contiguous prefix` : `${what} after them`
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

/** Refuses an archive that is the WAL itself, a link (it would send the copies elsewhere), or not a directory. */
function checkArchiveDir(dir: string, archiveDir: string): void {
  if (!checkDirOrAbsent(archiveDir, 'archive into it (--archive)')) return
  if (fs.realpathSync(archiveDir) === fs.realpathSync(dir)) throw new WalError(ExitCode.USAGE, '--archive: that is the WAL directory itself; give another directory', {file: archiveDir})
}

/** New archive folders: no wider than the WAL directory, never group/world-writable, owned like it. */
function archiveDirOptions(dir: string): {mode: number; owner: {uid: number; gid: number}} {
  const st = fs.statSync(dir)
  return {mode: dirModeWithin(st.mode), owner: {uid: st.uid, gid: st.gid}}
}

/** Refuses an archive that holds a different file (or anything but a regular file) under a segment's name. */
function checkArchiveTargets(archiveDir: string, segs: Candidate[]): void {
  for (const s of segs) {
    const target = path.join(archiveDir, s.name)
    const st = lstatOrUndefined(target)
    if (st && !st.isFile()) throw notRegular(target, st, 'archive into it')
    if (st && !sameBytes(s.path, target)) {
      throw new WalError(ExitCode.CANT_CREATE, `--archive: a different ${s.name} is already there; nothing was removed`, {file: target})
    }
  }
}

/**
 * Removes temporaries an interrupted gc --archive left: only names walctl
 * makes (`.wal_NNNNNN.log.walctl-<pid>-<random>.tmp`), only regular files
 * owned by this user, only when their process no longer runs. Returns how many.
 */
function removeLeftovers(archiveDir: string): number {
  let n = 0
  for (const name of fs.readdirSync(archiveDir)) {
    const pid = tempNamePid(name)
    if (pid === undefined || !/^\.wal_\d+\.log\./.test(name) || processRuns(pid)) continue
    const file = path.join(archiveDir, name)
    const st = lstatOrUndefined(file)
    if (!st?.isFile() || (typeof process.geteuid === 'function' && st.uid !== process.geteuid())) continue
    unlinkRegular(file, 'remove a temporary file of an interrupted gc', st)
    n++
  }
  if (n > 0) fsyncDir(archiveDir)
  return n
}

/** Removes (or archives) `segs` oldest first, yielding after each durable removal: a safe point. */
function* remove(dir: string, segs: Candidate[], archiveDir: string | null): Generator<void> {
  let done = 0
  try {
    for (const s of segs) {
      if (archiveDir) archiveCopy(s, path.join(archiveDir, s.name))
      // Only the regular file listed and checked: a link or another file swapped in meanwhile stays.
      unlinkRegular(s.path, 'remove', s.stat)
      // Each removal is made durable before the next: a crash leaves a prefix removed, never a gap.
      fsyncDir(dir)
      done++
      yield
    }
  } catch (error) {
    if (done === 0 || !(error instanceof WalError)) throw error
    throw new WalError(error.exitCode, `${error.message}; ${done} older segment(s) (${segmentRange(segs[0].id, segs[done - 1].id)}) were already ${archiveDir ? 'archived' : 'removed'}`)
  }
}

/**
 * Copies a segment into the archive durably: a temporary of walctl's own,
 * created exclusively, with the segment's owner (as root), group and mode;
 * fsync; link into place (link refuses a name that appeared meanwhile); fsync
 * the directory. The temporary is removed, and nothing else.
 */
function archiveCopy(s: Candidate, target: string): void {
  // The same bytes, checked before anything changed: a rerun after an interruption.
  if (lstatOrUndefined(target)?.isFile()) return
  const temp = tempNameFor(target)
  const src = openForReading(s.path, `archive ${s.name}`)
  let created = false
  try {
    const out = createExclusive(temp, 0o600, `archive ${s.name}`)
    created = true
    try {
      const st = fs.fstatSync(src)
      copyFd(src, out)
      if (isRoot()) applyOwnership(out, temp, ownershipOf(st))
      else fs.fchmodSync(out, st.mode & 0o777 & ~0o022)
      const size = fs.fstatSync(out).size
      if (size !== s.size) throw new WalError(ExitCode.IO, `the copy of ${s.name} is ${size} bytes, not ${s.size}`, {file: temp})
      fs.fsyncSync(out)
    } finally {
      fs.closeSync(out)
    }
    fs.linkSync(temp, target)
  } catch (error) {
    throw fsError(error, temp, `archive ${s.name}`, ExitCode.CANT_CREATE)
  } finally {
    fs.closeSync(src)
    if (created) {
      try {
        unlinkRegular(temp, 'remove a temporary file')
      } catch {
        // Left for the next gc --archive, which removes its own leftovers.
      }
    }
  }
  fsyncDir(path.dirname(target))
}

function sameBytes(a: string, b: string): boolean {
  const chunk = 1 << 20
  const ba = Buffer.allocUnsafe(chunk)
  const bb = Buffer.allocUnsafe(chunk)
  const fa = openForReading(a)
  let fb: number
  try {
    fb = openForReading(b)
  } catch (error) {
    fs.closeSync(fa)
    throw error
  }
  try {
    const sa = fs.fstatSync(fa)
    if (sa.size !== fs.fstatSync(fb).size) return false
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
