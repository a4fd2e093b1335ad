// The file pipeline: durable, atomic creation of segment files and the small
// fs helpers around it (as etcd's file_pipeline.go and fileutil).
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {applyOwnership, ownershipOf} from './owner.js'
import {checkRegularOrAbsent, createExclusive, NOFOLLOW, lstatOrUndefined, notRegular, openNoFollow, unlinkRegular} from './safe-open.js'

export const TEMP_SUFFIX = '.tmp'

// node:crypto takes some 2.5 ms to load, and a reader (verify, dump) never names a temporary nor hashes a file.
const require = createRequire(import.meta.url)
let cryptoModule: typeof import('node:crypto') | undefined
const crypto = (): typeof import('node:crypto') => (cryptoModule ??= require('node:crypto') as typeof import('node:crypto'))
/**
 * The most one write into a file's new pages carries. Measured on a VM that
 * hands freed memory back to its host (free page reporting), 64 MiB of zeros
 * took 15 to 25 ms in writes of 64 KiB and 180 to 270 ms in writes of 128 KiB
 * or more, as long as memory was cold; warm, 14 ms against 11
 * (docs/PERFORMANCE.md). So every write into a new file's pages goes
 * through writeAt or writeZeros: segments made by init, rotate, the
 * pipeline and recover, and the copies of restore, archive, gc and quarantine.
 */
export const WRITE_CHUNK = 64 * 1024

/** fsync a directory so that a rename or unlink inside it survives power loss. */
export function fsyncDir(dir: string): void {
  fsyncPath(dir, 'directory')
}

/** fsync a file's data and metadata (a copy that must be on disk before its original is touched). */
export function fsyncFile(file: string): void {
  fsyncPath(file, 'file')
}

function fsyncPath(target: string, kind: 'file' | 'directory'): void {
  let fd: number
  try {
    // A file is opened as walctl writes them (no link, no FIFO wait); a WAL directory may be reached through a link its operator made.
    fd = fs.openSync(target, kind === 'file' ? fs.constants.O_RDONLY | NOFOLLOW : fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (error) {
    throw fsError(error, target, `open ${kind} to sync it`)
  }
  try {
    fs.fsyncSync(fd)
  } catch (error) {
    // Some file systems refuse fsync on directories; a rename is still atomic there.
    const code = (error as NodeJS.ErrnoException).code
    if (kind === 'file' || (code !== 'EINVAL' && code !== 'EBADF')) throw fsError(error, target, `sync ${kind}`)
  } finally {
    fs.closeSync(fd)
  }
}

export interface CreateFileOptions {
  /** Replace an existing regular `target` (recover rewriting a segment: readers see the old file or the new one, never a mix). */
  replace?: boolean
  /**
   * Give the new file the owner, group and mode of this regular file (the
   * segment being replaced, or the WAL's newest segment for a new one). When
   * walctl cannot (not root), the file keeps walctl's own and a warning says so.
   */
  like?: string
  /** Permission bits when there is no `like` file (within the umask); 0o644 by default. */
  mode?: number
  /** Receives the warnings also returned (a sink for callers that return something else). */
  warnings?: string[]
}

/** `.wal_000001.log.walctl-<pid>-<random>.tmp`: walctl's own, unpredictable, and telling which process made it. */
export function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.walctl-${process.pid}-${crypto().randomBytes(8).toString('hex')}${TEMP_SUFFIX}`)
}

/** The pid in a temporary name made by tempNameFor, or undefined when the name is not one of walctl's. */
export function tempNamePid(name: string): number | undefined {
  const m = /^\.(.+)\.walctl-(\d+)-[0-9a-f]{16}\.tmp$/.exec(name)
  return m ? Number(m[2]) : undefined
}

/**
 * Writes `head` followed by zeros up to `size` into a temporary file beside
 * `target`, fsyncs it, moves it to `target` and fsyncs the directory. Every
 * block is written, not left sparse, so that a full disk fails here with a
 * clear error instead of as a SIGBUS on a later write through a mapping. What
 * the fsync makes durable is the size and `head`: the zeros are written after
 * it, to the page cache only (a file system that accepts a write has set its
 * space aside), since a block never written back reads as zeros anyway; so
 * creating a 64 MiB segment costs no 64 MiB of disk writes. After a crash
 * such a segment may be sparse again, and a writer opening it allocates its
 * holes first (segment.ts).
 * The temporary is created exclusively without following links, and `target`
 * must be absent (or, with `replace`, a regular file): a link, FIFO or any
 * other file there is refused (73) and left as it is. Returns warnings (an
 * owner that could not be kept) for the caller to show.
 */
export function createFileAtomic(target: string, head: Uint8Array, size: number, options: CreateFileOptions = {}): string[] {
  const existing = checkRegularOrAbsent(target, options.replace ? 'replace' : 'create')
  if (!options.replace && existing) throw new WalError(ExitCode.CANT_CREATE, 'cannot create: file already exists', {file: target})
  const {temp, fd, warnings} = createTempFor(target, options, size)
  try {
    fs.ftruncateSync(fd, size)
    writeAt(fd, head, 0)
    fs.fsyncSync(fd)
    writeZeros(fd, head.length, size)
  } catch (error) {
    fs.closeSync(fd)
    removeQuietly(temp)
    throw fsError(error, temp, `write ${size} bytes`, ExitCode.IO)
  }
  fs.closeSync(fd)
  moveIntoPlace(temp, target, options.replace ?? false)
  options.warnings?.push(...warnings)
  return warnings
}

/** A temporary of walctl's own beside its target, open for writing, with the owner and mode it is to have. */
export interface TempFile {
  temp: string
  fd: number
  /** An owner that could not be kept, for the caller to show once the file is in place. */
  warnings: string[]
}

/**
 * Creates the temporary for `target` exclusively (no link followed), with the
 * owner, group and mode of `options.like` (or `options.mode`). Errors are
 * reported as writing `size` bytes, as createFileAtomic always has.
 */
export function createTempFor(target: string, options: CreateFileOptions, size: number): TempFile {
  const like = options.like === undefined ? undefined : checkRegularOrAbsent(options.like, 'copy the owner and mode of')
  const temp = tempNameFor(target)
  // Readable too: a prepared segment is mapped before it takes its name.
  const fd = createExclusive(temp, like ? 0o600 : options.mode ?? 0o644, 'create', true)
  try {
    return {temp, fd, warnings: like ? applyOwnership(fd, target, ownershipOf(like)) : []}
  } catch (error) {
    fs.closeSync(fd)
    removeQuietly(temp)
    throw fsError(error, temp, `write ${size} bytes`, ExitCode.IO)
  }
}

/**
 * Moves a prepared temporary, its header already written and synced by the
 * caller, to `target`, which must be absent: the end state of
 * createFileAtomic, without writing the zeros now. The fd stays the caller's,
 * and so does removing the temporary when this throws
 * (WalSegment.installPrepared).
 */
export function placePrepared(prepared: TempFile, target: string): void {
  if (checkRegularOrAbsent(target, 'create')) throw new WalError(ExitCode.CANT_CREATE, 'cannot create: file already exists', {file: target})
  moveIntoPlace(prepared.temp, target, false)
}

/** Discards a prepared temporary that is not going to be used (an fd of -1 is left to whoever holds it). */
export function discardTemp(prepared: TempFile): void {
  try {
    if (prepared.fd >= 0) fs.closeSync(prepared.fd)
  } catch {
    // Already closed.
  }
  removeQuietly(prepared.temp)
}

/** Moves a synced temporary to `target` and fsyncs the directory; the temporary is gone afterwards. */
function moveIntoPlace(temp: string, target: string, replace: boolean): void {
  try {
    if (replace) {
      // rename replaces a name, never what a link points to; the lstat above refused a non-file.
      fs.renameSync(temp, target)
    } else {
      // link refuses any existing name (a link planted since the check included), where rename would replace it.
      fs.linkSync(temp, target)
      removeQuietly(temp)
    }
  } catch (error) {
    removeQuietly(temp)
    const st = lstatOrUndefined(target)
    if (st && !st.isFile()) throw notRegular(target, st, 'create')
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new WalError(ExitCode.CANT_CREATE, 'cannot create: file already exists', {file: target})
    throw fsError(error, target, 'rename the new file into place', ExitCode.CANT_CREATE)
  }
  fsyncDir(path.dirname(target))
}

/**
 * Removes the segment temporaries (`.wal_NNNNNN.log.walctl-<pid>-<random>.tmp`)
 * in `dir` whose process no longer runs: a segment being prepared, or created,
 * by a writer that was killed. Only walctl's own names, only regular files;
 * a temporary of a live process (another writer's, or a recover's) stays.
 * Returns how many were removed.
 */
export function removeDeadTemporaries(dir: string, names: readonly string[]): number {
  let n = 0
  for (const name of names) {
    const pid = tempNamePid(name)
    if (pid === undefined || !/^\.wal_\d+\.log\./.test(name) || processRuns(pid)) continue
    const file = path.join(dir, name)
    const st = lstatOrUndefined(file)
    if (!st?.isFile()) continue
    try {
      unlinkRegular(file, 'remove a temporary file of a killed writer', st)
      n++
    } catch {
      // Replaced meanwhile, or not ours to remove: it stays listed as a stray.
    }
  }
  return n
}

/** Whether process `pid` still runs (a pid we may not signal runs too). */
export function processRuns(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/** Removes a temporary file of our own (made by tempNameFor); anything but a regular file is left. */
export function removeQuietly(file: string): void {
  try {
    unlinkRegular(file, 'remove a temporary file')
  } catch {
    // Best effort: the temporary file is reported as stray by the manager if it stays.
  }
}

/** Reads `length` bytes at `position` into `into` (allocated when omitted); short at end of file. */
export function readAt(fd: number, position: number, length: number, into?: Buffer): Buffer {
  const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done)
    if (n === 0) break
    done += n
  }
  return buf.subarray(0, done)
}

/** Writes all of `buf` into the open file `fd` at `position`, WRITE_CHUNK at a time. */
export function writeAt(fd: number, buf: Uint8Array, position: number): void {
  for (let done = 0; done < buf.length; ) done += fs.writeSync(fd, buf, done, Math.min(WRITE_CHUNK, buf.length - done), position + done)
}

/** Copies every byte of the open file `src` into `out` from offset 0, read a megabyte at a time. */
export function copyFd(src: number, out: number): void {
  const buf = Buffer.allocUnsafe(CHUNK)
  for (let pos = 0; ; ) {
    const got = readAt(src, pos, buf.length, buf)
    if (got.length === 0) return
    writeAt(out, got, pos)
    pos += got.length
  }
}

const CHUNK = 1 << 20

/** Reads the open file `fd` from its start, a megabyte at a time, handing each chunk to `each`. Returns the size read. */
export function eachChunk(fd: number, each: (chunk: Buffer, at: number) => void): number {
  const buf = Buffer.allocUnsafe(CHUNK)
  let pos = 0
  for (;;) {
    const got = readAt(fd, pos, buf.length, buf)
    if (got.length === 0) return pos
    each(got, pos)
    pos += got.length
  }
}

/** The SHA-256 (hex) and size of a regular file, read without following a link. */
export function hashFile(file: string, action = 'read'): {sha256: string; size: number; st: fs.Stats} {
  const fd = openNoFollow(file, fs.constants.O_RDONLY, action)
  try {
    const hash = crypto().createHash('sha256')
    const size = eachChunk(fd, (chunk) => hash.update(chunk))
    return {sha256: hash.digest('hex'), size, st: fs.fstatSync(fd)}
  } finally {
    fs.closeSync(fd)
  }
}

/** Writes zeros over `[from, to)` of the open file `fd`, WRITE_CHUNK at a time: real blocks, not a hole. */
export function writeZeros(fd: number, from: number, to: number): void {
  const zeros = Buffer.alloc(Math.min(WRITE_CHUNK, Math.max(1, to - from)))
  for (let pos = from; pos < to; ) pos += fs.writeSync(fd, zeros, 0, Math.min(zeros.length, to - pos), pos)
}
