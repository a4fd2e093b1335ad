// The file pipeline: durable, atomic creation of segment files and the small
// fs helpers around it (as etcd's file_pipeline.go and fileutil).
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from './errors.js'

export const TEMP_SUFFIX = '.tmp'
const ZERO_CHUNK = 1024 * 1024

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
    fd = fs.openSync(target, 'r')
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

/**
 * Writes `head` followed by zeros up to `size` into a temporary file beside
 * `target`, fsyncs it, renames it to `target` and fsyncs the directory. Every
 * block is written, not left sparse, so that a full disk fails here with a
 * clear error instead of as a SIGBUS on a later write through a mapping.
 * Refuses to replace an existing `target` unless `options.replace` (recover
 * rewriting a segment: readers see the old file or the new one, never a mix).
 */
export function createFileAtomic(target: string, head: Uint8Array, size: number, options: {replace?: boolean} = {}): void {
  const dir = path.dirname(target)
  // A name of our own, created exclusively: a user's file that happens to be called like it is never touched.
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`)
  if (!options.replace && fs.existsSync(target)) throw new WalError(ExitCode.CANT_CREATE, 'cannot create: file already exists', {file: target})
  let fd: number
  try {
    fd = fs.openSync(temp, 'wx', 0o644)
  } catch (error) {
    throw fsError(error, temp, 'create', ExitCode.CANT_CREATE)
  }
  try {
    fs.writeSync(fd, head, 0, head.length, 0)
    const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, size))
    for (let pos = head.length; pos < size; ) {
      const n = Math.min(zeros.length, size - pos)
      pos += fs.writeSync(fd, zeros, 0, n, pos)
    }
    fs.fsyncSync(fd)
  } catch (error) {
    fs.closeSync(fd)
    removeQuietly(temp)
    throw fsError(error, temp, `write ${size} bytes`, ExitCode.IO)
  }
  fs.closeSync(fd)
  try {
    // link-then-unlink would also refuse an existing target; a plain rename is
    // atomic and the existence check above covers the single-writer case.
    fs.renameSync(temp, target)
  } catch (error) {
    removeQuietly(temp)
    throw fsError(error, target, 'rename the new file into place', ExitCode.CANT_CREATE)
  }
  fsyncDir(dir)
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file)
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
