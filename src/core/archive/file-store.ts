// A directory as an archive target (file:///path): each object is written to
// an exclusive temporary file of walctl's own, fsynced, read back and compared,
// then renamed into place, so that a name holds either nothing or the whole
// verified object. No link is followed and nothing but regular files is
// written, read or removed.
import {randomBytes} from 'node:crypto'
import {crc32} from 'node:zlib'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {fsyncDir, removeQuietly, writeAt} from '../fs/files.js'
import {makeDirs} from '../fs/owner.js'
import {checkDirOrAbsent, createExclusive, lstatOrUndefined, notRegular, openForReading, unlinkRegular} from '../fs/safe-open.js'
import {Digester} from './digest.js'
import {ArchiveStore, Digests, MANIFEST_NAME, PutOptions, StoredObject} from './store.js'
import {compareNames} from '../format/names.js'

const CHUNK = 1024 * 1024
/** Objects are readable by the archive's owner and group only: WAL payloads are user data. */
const OBJECT_MODE = 0o640
const DIR_MODE = 0o750
/** walctl's own temporaries in an archive directory: `.NAME.walctl-<16 hex>.tmp`. */
export const ARCHIVE_TEMP = /^\.(.+)\.walctl-[0-9a-f]{16}\.tmp$/

export class FileStore implements ArchiveStore {
  private constructor(readonly dir: string, readonly url: string) {}

  /** Opens (with `create`, makes) the archive directory; a link or a non-directory there is refused. */
  static open(dir: string, url: string, create: boolean): FileStore {
    realDirectory(dir, 'archive directory', create)
    return new FileStore(dir, url)
  }

  private at(name: string): string {
    return path.join(this.dir, name)
  }

  async list(): Promise<StoredObject[]> {
    let names: string[]
    try {
      names = fs.readdirSync(this.dir)
    } catch (error) {
      throw fsError(error, this.dir, 'list the archive directory')
    }
    const out: StoredObject[] = []
    for (const name of names) {
      if (ARCHIVE_TEMP.test(name)) continue
      const st = lstatOrUndefined(this.at(name))
      if (st?.isFile()) out.push({name, size: st.size})
    }
    return out.sort((a, b) => compareNames(a.name, b.name))
  }

  async size(name: string): Promise<number | undefined> {
    const st = lstatOrUndefined(this.at(name))
    return st?.isFile() ? st.size : undefined
  }

  async put(name: string, fd: number, length: number, options: PutOptions = {}): Promise<Digests> {
    const temp = this.at(`.${name}.walctl-${randomBytes(8).toString('hex')}.tmp`)
    // The kernel copies (copy_file_range) from the very file walctl opened: /proc/self/fd names the open
    // file, so a segment swapped for a link meanwhile is not what gets copied. Elsewhere, or for a part of
    // a file, the bytes go through this process.
    const whole = !options.throttle && length === fs.fstatSync(fd).size && fs.existsSync(`/proc/self/fd/${fd}`)
    const source = whole ? this.copyWhole(fd, temp, name) : await this.copyThrough(fd, temp, name, length, options)
    // Read the stored copy back: its checksums are the ones recorded, and they must be the source's.
    const got = new Digester()
    for await (const chunk of readFile(temp)) got.update(chunk)
    const stored = got.digest()
    if (got.bytes !== length || stored.crc32 !== source.crc32 || (source.sha256 !== undefined && stored.sha256 !== source.sha256)) {
      removeQuietly(temp)
      throw new WalError(ExitCode.IO, `the archive copy of ${name} read back differs from the segment (crc32 ${stored.crc32}, ${got.bytes} bytes; expected ${source.crc32}, ${length} bytes)`, {file: temp})
    }
    options.onBytes?.(length)
    this.replace(temp, name)
    return stored
  }

  /** copy_file_range through /proc/self/fd, then the source's CRC-32 read through `fd` for the comparison. */
  private copyWhole(fd: number, temp: string, name: string): {crc32: string; sha256?: string} {
    try {
      fs.copyFileSync(`/proc/self/fd/${fd}`, temp, fs.constants.COPYFILE_EXCL)
      fs.chmodSync(temp, OBJECT_MODE)
      const out = openForReading(temp)
      try {
        fs.fsyncSync(out)
      } finally {
        fs.closeSync(out)
      }
    } catch (error) {
      removeQuietly(temp)
      throw fsError(error, temp, `copy ${name} into the archive`, ExitCode.CANT_CREATE)
    }
    let crc = 0
    const buf = Buffer.allocUnsafe(CHUNK)
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos)
      if (n === 0) break
      crc = crc32(buf.subarray(0, n), crc)
      pos += n
    }
    return {crc32: (crc >>> 0).toString(16).padStart(8, '0')}
  }

  private async copyThrough(fd: number, temp: string, name: string, length: number, options: PutOptions): Promise<Digests> {
    const out = createExclusive(temp, OBJECT_MODE, 'create a temporary file in the archive')
    const source = new Digester()
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, length)))
      for (let pos = 0; pos < length; ) {
        const want = Math.min(buf.length, length - pos)
        await options.throttle?.(want)
        const n = fs.readSync(fd, buf, 0, want, pos)
        if (n === 0) throw new WalError(ExitCode.IO, `the segment ended at ${pos} bytes while being archived (expected ${length})`, {file: name})
        const chunk = buf.subarray(0, n)
        source.update(chunk)
        writeAt(out, chunk, pos)
        pos += n
        options.onBytes?.(pos)
      }
      fs.fsyncSync(out)
    } catch (error) {
      fs.closeSync(out)
      removeQuietly(temp)
      throw error instanceof WalError ? error : fsError(error, temp, 'write the archive copy')
    }
    fs.closeSync(out)
    return source.digest()
  }

  async *read(name: string): AsyncIterable<Uint8Array> {
    yield* readFile(this.at(name))
  }

  async readManifest(): Promise<string | undefined> {
    const st = lstatOrUndefined(this.at(MANIFEST_NAME))
    if (!st) return undefined
    if (!st.isFile()) throw notRegular(this.at(MANIFEST_NAME), st, 'read the archive manifest')
    const parts: Buffer[] = []
    for await (const c of readFile(this.at(MANIFEST_NAME))) parts.push(Buffer.from(c))
    return Buffer.concat(parts).toString('utf8')
  }

  async writeManifest(text: string): Promise<void> {
    const temp = this.at(`.${MANIFEST_NAME}.walctl-${randomBytes(8).toString('hex')}.tmp`)
    try {
      const fd = createExclusive(temp, OBJECT_MODE, 'write the archive manifest')
      try {
        fs.writeFileSync(fd, text)
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    } catch (error) {
      removeQuietly(temp)
      throw fsError(error, temp, 'write the archive manifest', ExitCode.CANT_CREATE)
    }
    this.replace(temp, MANIFEST_NAME)
  }

  async remove(name: string): Promise<void> {
    unlinkRegular(this.at(name), 'remove from the archive')
    fsyncDir(this.dir)
  }

  /** Removes temporaries left by an interrupted archive (walctl's own names, regular files only). */
  removeLeftovers(): string[] {
    const removed: string[] = []
    for (const name of fs.readdirSync(this.dir)) {
      if (!ARCHIVE_TEMP.test(name)) continue
      const st = lstatOrUndefined(this.at(name))
      if (!st?.isFile()) continue
      removeQuietly(this.at(name))
      removed.push(name)
    }
    return removed
  }

  async close(): Promise<void> {}

  /** Renames `temp` over `name` unless something other than a regular file holds that name. */
  private replace(temp: string, name: string): void {
    const target = this.at(name)
    const st = lstatOrUndefined(target)
    if (st && !st.isFile()) {
      removeQuietly(temp)
      throw notRegular(target, st, 'store the archive object')
    }
    try {
      fs.renameSync(temp, target)
    } catch (error) {
      removeQuietly(temp)
      throw fsError(error, target, 'move the archive copy into place', ExitCode.CANT_CREATE)
    }
    fsyncDir(this.dir)
  }
}

/**
 * Checks that `dir` is a real directory (not a link to one) and returns
 * whether it existed; a missing one is made, never group- or world-writable,
 * when `create`.
 */
export function realDirectory(dir: string, what: string, create: boolean): boolean {
  if (checkDirOrAbsent(dir, `use the ${what}`)) return true
  if (!create) throw new WalError(ExitCode.NO_INPUT, `no such ${what}`, {file: dir})
  makeDirs(dir, {mode: DIR_MODE}, `create the ${what}`)
  return false
}

/** A regular file's bytes, 1 MiB at a time; opened without following a link and never blocking on a FIFO. */
export async function* readFile(file: string): AsyncIterable<Uint8Array> {
  const fd = openForReading(file)
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos)
      if (n === 0) return
      pos += n
      yield buf.subarray(0, n)
    }
  } finally {
    fs.closeSync(fd)
  }
}
