// walctl restore: rebuild a WAL directory from an archive. Every object is
// downloaded into a temporary file of walctl's own and checked against the
// manifest before any segment name appears in the target directory; a
// mismatch removes what was downloaded and changes nothing else. With a
// target position, the last segment is cut after that record exactly as
// recover's point-in-time mode cuts (header kept, zeros after the record).
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, WalError} from '../errors.js'
import {fsyncDir, writeAt, writeZeros} from '../fs/files.js'
import {listWal} from '../read/directory.js'
import {formatPosition, parsePosition, Position} from '../format/names.js'
import {scanWal} from '../read/scan.js'
import {Digester} from './digest.js'
import {CurrentSegment, ManifestSegment} from './manifest.js'

/** An archived segment, or the newest segment's prefix (stored as `object`, `bytes` long, padded with zeros to `size`). */
type Entry = ManifestSegment | CurrentSegment
import {loadManifest} from './archive.js'
import {ArchiveStore} from './store.js'
import {realDirectory} from './file-store.js'
import {openNoFollow} from '../fs/safe-open.js'

export interface RestoreOptions {
  /** Cut after the record at this position. */
  to?: Position
  /** Restore up to the last record of the newest segment created before this time (milliseconds since the epoch). */
  toTimeMs?: number
  onProgress?: (done: number, total: number) => void
  checkpoint?: () => void | Promise<void>
}

export interface RestoreResult {
  target: string
  dir: string
  segments: Array<{id: number; name: string; size: number}>
  /** The last record restored, SEGMENT:OFFSET, or null when none. */
  lastRecord: string | null
  /** Where the last segment was cut, when a position or time asked for it. */
  cut: {segment: number; after: string; end: number} | null
  bytes: number
}

const {O_CREAT, O_EXCL, O_RDWR} = fs.constants

export async function restoreWal(store: ArchiveStore, input: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const dir = path.resolve(input)
  const manifest = await loadManifest(store)
  if (!manifest) throw new WalError(ExitCode.NO_INPUT, 'no manifest.json here: not a walctl archive (or nothing archived yet)', {file: store.url})
  if (manifest.segments.length === 0) throw new WalError(ExitCode.NO_INPUT, 'the archive lists no segment: nothing to restore', {file: store.url})
  const last = manifest.segments.at(-1)!
  const entries: Entry[] = manifest.current && manifest.current.id === last.id + 1 ? [...manifest.segments, manifest.current] : manifest.segments
  const chosen = chooseSegments(entries, options)
  prepareDir(dir)
  const temps = new Map<number, string>()
  const total = chosen.segments.reduce((n, s) => n + s.size, 0)
  let done = 0
  try {
    for (const s of chosen.segments) {
      await options.checkpoint?.()
      temps.set(s.id, await download(store, s, dir, (n) => options.onProgress?.(done + n, total), options.checkpoint))
      done += s.size
    }
    let cut: RestoreResult['cut'] = null
    if (chosen.cutAfter) {
      const last = chosen.segments.at(-1)!
      cut = cutAfter(temps.get(last.id)!, last, chosen.cutAfter, `${store.url}/${last.name}`)
    }
    // Only now, with every object checked, do segment names appear.
    for (const s of chosen.segments) {
      fs.renameSync(temps.get(s.id)!, path.join(dir, s.name))
      temps.delete(s.id)
    }
    fsyncDir(dir)
    const last = chosen.cutAfter ?? lastRecordOf(chosen.segments)
    return {target: store.url, dir, segments: chosen.segments.map((s) => ({id: s.id, name: s.name, size: s.size})), lastRecord: last ? formatPosition(last) : null, cut, bytes: done}
  } finally {
    for (const t of temps.values()) fs.rmSync(t, {force: true})
  }
}

function lastRecordOf(segments: Entry[]): Position | undefined {
  for (let i = segments.length - 1; i >= 0; i--) {
    const p = segments[i].lastRecord === null ? undefined : parsePosition(segments[i].lastRecord!)
    if (p) return p
  }
  return undefined
}

function chooseSegments(all: Entry[], o: RestoreOptions): {segments: Entry[]; cutAfter?: Position} {
  const range = `${all[0].name}..${all.at(-1)!.name}`
  if (o.to) {
    const i = all.findIndex((s) => s.id === o.to!.segment)
    if (i < 0) throw new WalError(ExitCode.NO_INPUT, `--to ${formatPosition(o.to)}: segment ${o.to.segment} is not in the archive (it holds ${range})`)
    return {segments: all.slice(0, i + 1), cutAfter: o.to}
  }
  if (o.toTimeMs !== undefined) {
    const limitUs = BigInt(Math.floor(o.toTimeMs)) * 1000n
    let i = -1
    for (const [k, s] of all.entries()) if (BigInt(s.createdAtUs) < limitUs) i = k
    if (i < 0) throw new WalError(ExitCode.NO_INPUT, `--to-time ${new Date(o.toTimeMs).toISOString()}: no archived segment was created before it (the oldest, ${all[0].name}, was created at ${all[0].createdAt})`)
    const seg = all[i]
    const last = seg.lastRecord === null ? undefined : parsePosition(seg.lastRecord)
    return {segments: all.slice(0, i + 1), cutAfter: last}
  }
  return {segments: all}
}

/** The restore target: a real directory holding no segment, made (mode 0750) when missing. */
function prepareDir(dir: string): void {
  if (!realDirectory(dir, 'restore directory', true)) return
  const held = listWal(dir).segments
  if (held.length > 0) throw new WalError(ExitCode.CANT_CREATE, `refusing to restore into a directory that holds segments (${held.length}, the first ${held[0].name}); give an empty or new directory`, {file: dir})
}

/** Downloads one object into a temporary file beside its name and checks it against the manifest. */
async function download(store: ArchiveStore, s: Entry, dir: string, onBytes: (n: number) => void, checkpoint?: () => void | Promise<void>): Promise<string> {
  const object = 'object' in s ? s.object : s.name
  const stored = 'bytes' in s ? s.bytes : s.size
  const temp = path.join(dir, `.${s.name}.walctl-${randomBytes(8).toString('hex')}.tmp`)
  // Never group- or world-writable, whatever the archived mode says.
  const mode = (s.mode ?? 0o640) & 0o755
  const fd = openNoFollow(temp, O_RDWR | O_CREAT | O_EXCL, 'create a temporary file', mode)
  const digest = new Digester()
  try {
    let pos = 0
    for await (const chunk of store.read(object)) {
      if (pos + chunk.length > stored) throw mismatch(store, object, `it is longer than the ${stored} bytes the manifest lists`)
      digest.update(chunk)
      writeAt(fd, chunk, pos)
      pos += chunk.length
      onBytes(pos)
      // A signal stops the download here too, so that its temporary is removed before walctl exits.
      await checkpoint?.()
    }
    const d = digest.digest()
    if (pos !== stored) throw mismatch(store, object, `it is ${pos} bytes, the manifest lists ${stored}`)
    if (d.sha256 !== s.sha256) throw mismatch(store, object, `its sha256 is ${d.sha256}, the manifest lists ${s.sha256}`)
    // A current segment's prefix: the rest of the segment is zeros, written out (not a hole) like every segment walctl makes.
    writeZeros(fd, pos, s.size)
    fs.fchmodSync(fd, mode)
    if (process.getuid?.() === 0 && s.uid !== undefined && s.gid !== undefined) fs.fchownSync(fd, s.uid, s.gid)
    fs.fsyncSync(fd)
  } catch (error) {
    fs.closeSync(fd)
    fs.rmSync(temp, {force: true})
    throw error
  }
  fs.closeSync(fd)
  return temp
}

function mismatch(store: ArchiveStore, object: string, why: string): WalError {
  return new WalError(ExitCode.DAMAGED, `archived ${object} does not match the manifest: ${why}; nothing was restored`, {file: `${store.url}/${object}`})
}

/** Zeros everything after the record at `at` in the downloaded segment `file`, as point-in-time recovery cuts. */
function cutAfter(file: string, s: Entry, at: Position, object: string): {segment: number; after: string; end: number} {
  let end = -1
  const starts: number[] = []
  scanWal(file, {
    settleTries: 0,
    onRecord: (_seg, _buf, offset, length, _crc, resynced) => {
      if (resynced) return false
      starts.push(offset)
      if (offset === at.offset) {
        end = offset + 8 + length
        return false
      }
    },
  })
  if (end < 0) {
    const near = starts.filter((o) => o < at.offset).at(-1)
    throw new WalError(ExitCode.DATA, `--to ${formatPosition(at)} is not where a record starts in ${s.name}${near === undefined ? '' : ` (the record before it starts at ${s.id}:${near})`}; give a position as append prints it`, {file: object, offset: at.offset, segment: s.id})
  }
  const fd = openNoFollow(file, O_RDWR, 'cut the restored segment')
  try {
    writeZeros(fd, end, s.size)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  return {segment: s.id, after: formatPosition(at), end}
}
