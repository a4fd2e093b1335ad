// Opening and checking files without following links and without blocking on
// a FIFO: every file walctl writes, renames or removes must be a regular file
// it can see for what it is (folders: a real directory). Anything else in its
// place is refused with exit 73 naming it, never written through or deleted.
import * as fs from 'node:fs'
import {ExitCode, fsError, WalError} from '../errors.js'

const C = fs.constants
/** Added to every open: a link is refused (ELOOP) and a FIFO does not wait for a writer. */
export const NOFOLLOW = C.O_NOFOLLOW | C.O_NONBLOCK

/** `a symbolic link`, `a FIFO`, ... for what is found where a file was expected. */
export function describeKind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device'
  if (st.isDirectory()) return 'a directory'
  if (st.isFile()) return 'a regular file'
  return 'not a regular file'
}

/** The kind of a non-file for a stray listing: symlink, fifo, socket, device. */
export function strayKindOf(st: fs.Stats): 'symlink' | 'fifo' | 'socket' | 'device' | undefined {
  if (st.isSymbolicLink()) return 'symlink'
  if (st.isFIFO()) return 'fifo'
  if (st.isSocket()) return 'socket'
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'device'
  return undefined
}

/** The refusal for `file` found to be `st` where walctl needed a regular file (or, with `dir`, a directory). */
export function notRegular(file: string, st: fs.Stats, action: string, dir = false): WalError {
  const want = dir ? 'a directory' : 'a regular file'
  const link = st.isSymbolicLink() ? '; walctl never follows a link there, nor removes it' : '; walctl leaves it as it is'
  return new WalError(ExitCode.CANT_CREATE, `refusing to ${action}: it is ${describeKind(st)}, not ${want}${link}`, {file})
}

/** lstat, or undefined when nothing is there. */
export function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw fsError(error, file, 'stat')
  }
}

/** Throws (73) unless `file` is missing or a regular file (not a link to one). Returns its stat. */
export function checkRegularOrAbsent(file: string, action: string): fs.Stats | undefined {
  const st = lstatOrUndefined(file)
  if (st && !st.isFile()) throw notRegular(file, st, action)
  return st
}

/** Throws (73) unless `dir` is missing or a real directory (not a link to one). Returns its stat. */
export function checkDirOrAbsent(dir: string, action: string): fs.Stats | undefined {
  const st = lstatOrUndefined(dir)
  if (st && !st.isDirectory()) throw notRegular(dir, st, action, true)
  return st
}

/**
 * Opens `file` without following a link and without blocking, and checks
 * that what was opened is a regular file (fstat of the open descriptor, so no
 * swap between check and use). `flags` are fs.constants O_* flags. A link, a
 * FIFO, a device or a directory in its place is refused with exit 73.
 */
export function openNoFollow(file: string, flags: number, action: string, mode = 0o600): number {
  let fd: number
  try {
    fd = fs.openSync(file, flags | NOFOLLOW, mode)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR' || code === 'ENODEV') {
      const st = lstatOrUndefined(file)
      if (st && !st.isFile()) throw notRegular(file, st, action)
    }
    throw fsError(error, file, action, flags & (C.O_WRONLY | C.O_RDWR) ? ExitCode.CANT_CREATE : ExitCode.NO_INPUT)
  }
  const st = fs.fstatSync(fd)
  if (!st.isFile()) {
    fs.closeSync(fd)
    throw notRegular(file, st, action)
  }
  return fd
}

/** Opens an existing regular file for reading: `openNoFollow(file, O_RDONLY)`. */
export function openForReading(file: string, action = 'open for reading'): number {
  return openNoFollow(file, C.O_RDONLY, action)
}

/** Creates `file` exclusively (never an existing name, never through a link) for writing (and reading, with `readable`: a file to be mapped). */
export function createExclusive(file: string, mode: number, action = 'create', readable = false): number {
  return openNoFollow(file, (readable ? C.O_RDWR : C.O_WRONLY) | C.O_CREAT | C.O_EXCL, action, mode)
}

/**
 * Removes `file` after checking it is still the regular file `expected`
 * (same device and inode) when given; a link, a FIFO or any other file in its
 * place is left alone and refused (73). Returns whether this call removed it
 * (false: it was gone already, or someone else removed it meanwhile).
 */
export function unlinkRegular(file: string, action: string, expected?: fs.Stats): boolean {
  const st = lstatOrUndefined(file)
  if (!st) return false
  if (!st.isFile()) throw notRegular(file, st, action)
  if (expected && (st.ino !== expected.ino || st.dev !== expected.dev)) {
    throw new WalError(ExitCode.CANT_CREATE, `refusing to ${action}: the file was replaced by another one meanwhile`, {file})
  }
  try {
    fs.unlinkSync(file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, file, action)
    return false
  }
}

/** No write permission bits: what an operator protected with chmod a-w. */
export function isProtected(st: fs.Stats): boolean {
  return (st.mode & 0o222) === 0
}
