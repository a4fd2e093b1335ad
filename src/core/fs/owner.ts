// Owners and modes: what walctl creates takes the owner, group and mode of
// what it replaces or continues (a segment), and nothing it creates is group-
// or world-writable, whatever the umask.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError} from '../errors.js'
import {checkDirOrAbsent, notRegular} from './safe-open.js'
import {escapeName} from './quote.js'

export interface Ownership {
  uid: number
  gid: number
  /** Permission bits (0o777); set-id and sticky bits are never copied. */
  mode: number
}

export function ownershipOf(st: fs.Stats): Ownership {
  return {uid: st.uid, gid: st.gid, mode: st.mode & 0o777}
}

export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0
}

/** The process umask, read without changing it for longer than this call. */
export function currentUmask(): number {
  const u = process.umask(0o022)
  process.umask(u)
  return u
}

/**
 * Gives the open file `fd` the owner, group and mode `want` (fchown, then
 * fchmod: a chown may clear mode bits). Returns one warning for what could not
 * be done (not root, and the owner is someone else), naming `file`.
 */
export function applyOwnership(fd: number, file: string, want: Ownership): string[] {
  const st = fs.fstatSync(fd)
  const warnings: string[] = []
  if (st.uid !== want.uid || st.gid !== want.gid) {
    try {
      fs.fchownSync(fd, want.uid, want.gid)
    } catch {
      // Not root: the group can still be one of ours.
      try {
        if (st.gid !== want.gid) fs.fchownSync(fd, -1, want.gid)
      } catch {
        // Said below.
      }
      const now = fs.fstatSync(fd)
      if (now.uid !== want.uid || now.gid !== want.gid) {
        warnings.push(`${escapeName(file)}: cannot give it owner ${want.uid}:${want.gid} like the WAL's other segments (only root can); it is owned by ${now.uid}:${now.gid}`)
      }
    }
  }
  try {
    fs.fchmodSync(fd, want.mode & 0o777)
  } catch (error) {
    throw fsError(error, file, 'set the mode of', ExitCode.CANT_CREATE)
  }
  return warnings
}

/** The mode for a directory walctl creates inside `parent`: no wider than it, never group/world-writable, within the umask. */
export function dirModeWithin(parentMode: number): number {
  return parentMode & 0o755 & ~currentUmask() | 0o700
}

export interface MakeDirOptions {
  /** Permission bits of every directory created (already narrowed by the caller). */
  mode: number
  /** Owner and group of every directory created, when walctl runs as root. */
  owner?: {uid: number; gid: number}
}

/**
 * Creates `dir` (and missing parents), giving each directory it creates an
 * explicit mode (mkdir, then fchmod through a descriptor opened without
 * following links: the umask neither widens nor decides it). An existing
 * `dir` must be a real directory, not a link (73). Returns whether it made `dir`.
 */
export function makeDirs(dir: string, options: MakeDirOptions, action = 'create the directory'): boolean {
  if (checkDirOrAbsent(dir, action)) return false
  const parent = path.dirname(dir)
  if (parent !== dir && !fs.existsSync(parent)) makeDirs(parent, options, action)
  try {
    fs.mkdirSync(dir, {mode: options.mode & 0o700})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      checkDirOrAbsent(dir, action)
      return false
    }
    throw fsError(error, dir, action, ExitCode.CANT_CREATE)
  }
  let fd: number
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW)
  } catch (error) {
    const st = fs.lstatSync(dir)
    if (!st.isDirectory()) throw notRegular(dir, st, action, true)
    throw fsError(error, dir, action, ExitCode.CANT_CREATE)
  }
  try {
    if (options.owner && isRoot()) fs.fchownSync(fd, options.owner.uid, options.owner.gid)
    fs.fchmodSync(fd, options.mode & 0o777)
  } catch (error) {
    throw fsError(error, dir, 'set the mode of', ExitCode.CANT_CREATE)
  } finally {
    fs.closeSync(fd)
  }
  return true
}
