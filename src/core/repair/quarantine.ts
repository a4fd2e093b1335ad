// The quarantine: before a recover changes or moves a segment, a durable copy
// of it goes to `DIR/quarantine/<UTC timestamp>/` with a report.json saying
// what is done and why. Nothing in it is ever deleted by walctl (an undo moves
// a segment that recover moved there back into the WAL).
//
// On a shared host: `quarantine` and its folders must be real directories
// (a link there would send the copies elsewhere: refused, 73); they are made
// with an explicit mode no wider than the WAL directory's and never group- or
// world-writable, owned like the WAL directory; the copies keep the
// original's owner and group and lose its write bits.
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {createFileAtomic, eachChunk, fsyncDir, writeAt} from '../fs/files.js'
import {walctlVersion} from '../version.js'
import {applyOwnership, dirModeWithin, isRoot, makeDirs, MakeDirOptions} from '../fs/owner.js'
import {createExclusive, openForReading} from '../fs/safe-open.js'

export const QUARANTINE_DIR = 'quarantine'
export const REPORT_FILE = 'report.json'

/** `2026-11-24T03-50-57.123Z`: sortable, and free of the colons some file systems refuse. */
export function quarantineStamp(date: Date = new Date()): string {
  return date.toISOString().replace(/:/g, '-')
}

function dirOptions(walDir: string): MakeDirOptions {
  const st = fs.statSync(walDir)
  return {mode: dirModeWithin(st.mode), owner: {uid: st.uid, gid: st.gid}}
}

/** Creates `walDir/quarantine/<stamp>/` (with a suffix if that exists already) and makes it durable. */
export function createQuarantine(walDir: string, date: Date = new Date()): string {
  const root = path.join(walDir, QUARANTINE_DIR)
  const options = dirOptions(walDir)
  if (makeDirs(root, options, 'create the quarantine directory')) fsyncDir(walDir)
  const stamp = quarantineStamp(date)
  for (let n = 0; n < 1000; n++) {
    const dir = path.join(root, n === 0 ? stamp : `${stamp}-${n}`)
    // Only a folder made now is used: an existing one (or a link planted under the name) is skipped.
    if (!makeDirs(dir, options, 'create the quarantine directory')) continue
    fsyncDir(root)
    return dir
  }
  throw new WalError(ExitCode.CANT_CREATE, 'cannot create a quarantine directory: too many with the same timestamp', {file: root})
}

/** What it takes to put an original back exactly: its bytes' SHA-256, size, permission bits and owner. */
export interface Original {
  size: number
  /** Permission bits, octal text (`0640`). */
  mode: string
  uid: number
  gid: number
  sha256: string
}

export function originalOf(st: fs.Stats, sha256: string, size = st.size): Original {
  return {size, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid, sha256}
}

/** Who wrote a report, with what, where and when: enough for an operator to tell one run from another. */
export function reportIdentity(): {walctl: string; host: string; user: {name: string | null; uid: number | null}; time: string} {
  let name: string | null = null
  try {
    name = os.userInfo().username
  } catch {
    // A uid without a passwd entry (a container): the number still says who.
  }
  return {walctl: walctlVersion(), host: os.hostname(), user: {name, uid: typeof process.getuid === 'function' ? process.getuid() : null}, time: new Date().toISOString()}
}

/**
 * Copies `file` into `dir` under its own name and fsyncs the copy (the
 * directory is synced by the caller), hashing the bytes as they are copied.
 * The source is read without following a link; the copy is created
 * exclusively, read-only (the original's mode without write bits) and, when
 * walctl runs as root, with the original's owner.
 */
export function quarantineCopy(file: string, dir: string): {dest: string; original: Original} {
  const dest = path.join(dir, path.basename(file))
  const src = openForReading(file, 'copy into the quarantine')
  let original: Original
  try {
    const st = fs.fstatSync(src)
    const out = createExclusive(dest, 0o400, 'copy a segment into the quarantine')
    try {
      const hash = createHash('sha256')
      const size = eachChunk(src, (chunk, at) => {
        hash.update(chunk)
        writeAt(out, chunk, at)
      })
      original = originalOf(st, hash.digest('hex'), size)
      const mode = st.mode & 0o777 & ~0o222
      if (isRoot()) applyOwnership(out, dest, {uid: st.uid, gid: st.gid, mode})
      else fs.fchmodSync(out, mode)
      fs.fsyncSync(out)
    } catch (error) {
      throw fsError(error, dest, 'copy a segment into the quarantine', ExitCode.CANT_CREATE)
    } finally {
      fs.closeSync(out)
    }
  } finally {
    fs.closeSync(src)
  }
  return {dest, original}
}

/** Writes (or replaces) the quarantine's report.json atomically and durably; never group- or world-writable. */
export function writeReport(dir: string, report: unknown): string {
  const file = path.join(dir, REPORT_FILE)
  const bytes = Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8')
  createFileAtomic(file, bytes, bytes.length, {replace: true, mode: 0o644})
  return file
}
