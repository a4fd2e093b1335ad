// walctl archive: ship every sealed segment (all but the newest) that the
// target does not hold yet, oldest first, each one stored, read back and
// checked before the manifest lists it. The manifest is rewritten after each
// segment, so an interrupted run leaves a consistent archive that the next run
// completes: no duplicates (an object is replaced whole), no gaps (segments
// go in id order and a missing one stops the run).
import * as fs from 'node:fs'
import {openForReading} from '../fs/safe-open.js'
import * as os from 'node:os'
import {ExitCode, WalError} from '../errors.js'
import {listWal, resolveWalDir, SegmentFile} from '../read/directory.js'
import {segmentFileName} from '../format/names.js'
import {nominalSegmentSize} from '../read/scan.js'
import {walctlVersion} from '../version.js'
import {FileStore} from './file-store.js'
import {CurrentSegment, currentObjectName, emptyManifest, Manifest, ManifestSegment, parseManifest} from './manifest.js'
import {SegmentInfo, segmentInfo, statMode} from './segment-info.js'
import {formatMicros} from '../format/header-check.js'
import {ArchiveStore, Digests, MANIFEST_NAME} from './store.js'

export interface ArchiveOptions {
  /** Also ship the newest segment's prefix of valid records (when it changed since the last time). */
  includeCurrent?: boolean
  /** Bandwidth limit, bytes per second (all uploads of this run together). */
  maxBytesPerSecond?: number
  /** Called between segments: a safe point to stop at (it may throw). */
  checkpoint?: () => void | Promise<void>
  /** Bytes shipped so far in this run, and the bytes to ship. */
  onProgress?: (done: number, total: number) => void
}

export interface ShippedSegment {
  id: number
  name: string
  size: number
  sha256: string
}

export interface ArchiveResult {
  dir: string
  target: string
  /** Segments shipped by this run, oldest first. */
  shipped: ShippedSegment[]
  bytesShipped: number
  /** Sealed segments of the WAL (all but the newest). */
  sealed: number
  /** Segments the archive lists now, and its first and last ids. */
  archived: {count: number; first: number | null; last: number | null}
  /** Sealed segments not yet archived after this run, and how long ago the oldest of them was sealed. */
  lag: {segments: number; seconds: number}
  /** Temporaries of an interrupted earlier run that were removed. */
  removedLeftovers: string[]
  /** With --include-current: the newest segment's prefix the archive holds now. */
  current: {id: number; name: string; bytes: number; lastRecord: string | null; shipped: boolean} | null
}

/** A token bucket over the whole run: `maxBytesPerSecond` on average, bursts of one second. */
export function throttler(maxBytesPerSecond: number | undefined): ((n: number) => Promise<void>) | undefined {
  if (!maxBytesPerSecond || maxBytesPerSecond <= 0) return undefined
  let allowance = maxBytesPerSecond
  let last = Date.now()
  return async (n: number) => {
    for (;;) {
      const now = Date.now()
      allowance = Math.min(maxBytesPerSecond, allowance + ((now - last) / 1000) * maxBytesPerSecond)
      last = now
      if (allowance >= Math.min(n, maxBytesPerSecond)) {
        allowance -= n
        return
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((Math.min(n, maxBytesPerSecond) - allowance) / maxBytesPerSecond) * 1000)))
    }
  }
}

export async function loadManifest(store: ArchiveStore): Promise<Manifest | undefined> {
  const text = await store.readManifest()
  return text === undefined ? undefined : parseManifest(text, `${store.url}/${MANIFEST_NAME}`)
}

export async function saveManifest(store: ArchiveStore, m: Manifest): Promise<void> {
  m.updatedAt = new Date().toISOString()
  m.writtenBy = walctlVersion()
  await store.writeManifest(JSON.stringify(m, null, 2) + '\n')
}

/** When a segment was sealed: the next segment's creation, or its own last write. */
function sealedAtMs(seg: SegmentFile, next: SegmentFile | undefined): number {
  try {
    if (next) return fs.statSync(next.path).birthtimeMs || fs.statSync(next.path).mtimeMs
    return fs.statSync(seg.path).mtimeMs
  } catch {
    return Date.now()
  }
}

export async function archiveWal(input: string, store: ArchiveStore, options: ArchiveOptions = {}): Promise<ArchiveResult> {
  const dir = resolveWalDir(input)
  const listing = listWal(dir)
  if (listing.segments.length === 0) throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here: nothing to archive', {file: dir})
  const segmentSize = nominalSegmentSize(listing.segments)
  const removedLeftovers = store instanceof FileStore ? store.removeLeftovers() : []
  const manifest = (await loadManifest(store)) ?? emptyManifest(dir, os.hostname(), segmentSize, walctlVersion())
  if (manifest.segments.length > 0 && manifest.segmentSize !== segmentSize) {
    throw new WalError(ExitCode.DATA, `the archive holds segments of ${manifest.segmentSize} bytes and this WAL's are ${segmentSize}: it is another WAL's archive; give another target`, {file: store.url})
  }
  manifest.segmentSize = segmentSize
  const sealed = listing.segments.slice(0, -1)
  const byId = new Map(manifest.segments.map((s) => [s.id, s]))
  const todo: SegmentFile[] = []
  for (const s of sealed) {
    const listed = byId.get(s.id)
    if (listed) {
      if (listed.size !== s.size) throw new WalError(ExitCode.DATA, `the archive's ${listed.name} is ${listed.size} bytes, the WAL's is ${s.size}: they are not the same segment; nothing more was shipped`, {file: s.path})
      continue
    }
    const lastId = manifest.segments.at(-1)?.id
    if (lastId !== undefined && s.id < lastId) continue // older than the archive's newest and not in it: pruned from the archive
    todo.push(s)
  }
  const total = todo.reduce((n, s) => n + s.size, 0)
  const throttle = throttler(options.maxBytesPerSecond)
  const shipped: ShippedSegment[] = []
  let done = 0
  for (const s of todo) {
    await options.checkpoint?.()
    const expected = (manifest.segments.at(-1)?.id ?? s.id - 1) + 1
    if (s.id !== expected) {
      throw new WalError(ExitCode.DAMAGED, `${segmentFileName(expected)} is neither in the archive nor in the WAL: archiving ${s.name} after it would leave a gap; ${shipped.length} segment(s) were shipped before it`, {file: s.path})
    }
    const entry = await shipSegment(store, s, done, total, throttle, options.onProgress)
    done += s.size
    manifest.segments.push(entry)
    // Listed only now, after the object was stored and read back.
    await saveManifest(store, manifest)
    shipped.push({id: entry.id, name: entry.name, size: entry.size, sha256: entry.sha256})
  }
  let current: ArchiveResult['current'] = null
  const newest = listing.segments.at(-1)!
  if (manifest.current && manifest.current.id <= (manifest.segments.at(-1)?.id ?? 0)) {
    // Sealed and shipped whole since: the prefix is no longer needed.
    const stale = manifest.current.object
    manifest.current = null
    await saveManifest(store, manifest)
    await store.remove(stale)
  }
  if (options.includeCurrent && (manifest.segments.at(-1)?.id ?? newest.id - 1) === newest.id - 1) {
    await options.checkpoint?.()
    current = await shipCurrent(store, manifest, newest, throttle)
  }
  if (shipped.length === 0 && (await store.readManifest()) === undefined) await saveManifest(store, manifest)
  const archivedIds = new Set(manifest.segments.map((s) => s.id))
  const pending = sealed.filter((s) => !archivedIds.has(s.id) && s.id > (manifest.segments.at(-1)?.id ?? 0))
  const oldest = pending[0]
  const seconds = oldest ? Math.max(0, (Date.now() - sealedAtMs(oldest, listing.segments[listing.segments.indexOf(oldest) + 1])) / 1000) : 0
  return {
    dir,
    target: store.url,
    shipped,
    bytesShipped: done,
    sealed: sealed.length,
    archived: {count: manifest.segments.length, first: manifest.segments[0]?.id ?? null, last: manifest.segments.at(-1)?.id ?? null},
    lag: {segments: pending.length, seconds: Math.round(seconds)},
    removedLeftovers,
    current,
  }
}

/** Ships the newest segment's prefix of valid records when it grew since the last time; the manifest then names it. */
async function shipCurrent(store: ArchiveStore, manifest: Manifest, s: SegmentFile, throttle: ((n: number) => Promise<void>) | undefined): Promise<NonNullable<ArchiveResult['current']>> {
  const info = segmentInfo(s.path, s.id)
  const prev = manifest.current
  if (prev && prev.id === s.id && prev.bytes === info.cleanEnd) return {id: s.id, name: s.name, bytes: prev.bytes, lastRecord: prev.lastRecord, shipped: false}
  const object = currentObjectName(s.name, info.cleanEnd)
  const fd = openForReading(s.path, 'open for archiving')
  let entry: CurrentSegment
  try {
    const st = fs.fstatSync(fd)
    const digests = await store.put(object, fd, info.cleanEnd, {throttle})
    entry = {...manifestEntry(s, st, info, digests), object, bytes: info.cleanEnd}
  } finally {
    fs.closeSync(fd)
  }
  manifest.current = entry
  await saveManifest(store, manifest)
  if (prev && prev.object !== object) await store.remove(prev.object)
  return {id: s.id, name: s.name, bytes: entry.bytes, lastRecord: entry.lastRecord, shipped: true}
}

async function shipSegment(store: ArchiveStore, s: SegmentFile, before: number, total: number, throttle: ((n: number) => Promise<void>) | undefined, onProgress: ArchiveOptions['onProgress']): Promise<ManifestSegment> {
  const fd = openForReading(s.path, 'open for archiving')
  try {
    const st = fs.fstatSync(fd)
    const info = segmentInfo(s.path, s.id)
    const digests = await store.put(s.name, fd, st.size, {throttle, onBytes: (n) => onProgress?.(before + n, total)})
    return manifestEntry(s, st, info, digests)
  } finally {
    fs.closeSync(fd)
  }
}

/** What the manifest says of a segment file just stored: its stat, its scan and the stored object's checksums. */
function manifestEntry(s: SegmentFile, st: fs.Stats, info: SegmentInfo, digests: Digests): ManifestSegment {
  return {
    id: s.id,
    name: s.name,
    size: st.size,
    sha256: digests.sha256,
    crc32: digests.crc32,
    createdAt: formatMicros(info.createdAtUs),
    createdAtUs: String(info.createdAtUs),
    modifiedAt: formatMicros(info.modifiedAtUs),
    modifiedAtUs: String(info.modifiedAtUs),
    records: info.records,
    firstRecord: info.firstRecord,
    lastRecord: info.lastRecord,
    cleanEnd: info.cleanEnd,
    verdict: info.verdict,
    ...statMode(st),
    archivedAt: new Date().toISOString(),
  }
}

export interface PruneOptions {
  keep?: number
  /** Remove segments created longer ago than this (milliseconds). */
  maxAgeMs?: number
  nowMs?: number
}

/** Removes the oldest archived segments beyond the policy, never the newest; the manifest drops them before the objects go. */
export async function pruneArchive(store: ArchiveStore, options: PruneOptions): Promise<ManifestSegment[]> {
  const manifest = await loadManifest(store)
  if (!manifest || manifest.segments.length <= 1) return []
  let count = 0
  const n = manifest.segments.length
  if (options.keep !== undefined) count = Math.max(count, n - Math.max(1, options.keep))
  if (options.maxAgeMs !== undefined) {
    const cutoffUs = BigInt(Math.floor(((options.nowMs ?? Date.now()) - options.maxAgeMs) * 1000))
    let i = 0
    while (i < n && BigInt(manifest.segments[i].createdAtUs) < cutoffUs) i++
    count = Math.max(count, i)
  }
  count = Math.min(count, n - 1)
  if (count <= 0) return []
  const gone = manifest.segments.splice(0, count)
  await saveManifest(store, manifest)
  for (const s of gone) await store.remove(s.name)
  return gone
}
