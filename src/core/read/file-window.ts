// A segment file read through one window of bounded size: the whole file when
// it is smaller, else WINDOW_SIZE bytes that slide forward as the scan does.
// Whatever lies outside the window is read by bounded chunks, so memory never
// grows with what a file or a record claims.
import * as fs from 'node:fs'
import {crc32 as zlibCrc32} from 'node:zlib'
import {fsError} from '../errors.js'
import {readAt} from '../fs/files.js'
import {kernelBuffer} from '../format/record-kernel.js'
import {ByteSource, firstNonZero, lastNonZeroEnd, u32} from './source.js'

/** The most bytes of one segment a reader holds at once. */
export const WINDOW_SIZE = 32 * 1024 * 1024
/**
 * The window of a scan that only looks for damage (scan.ts): small enough that
 * what a pread has just copied is still in the core's L2 cache when the
 * scanner reads it. Through a 32 MiB window every byte goes out to memory and
 * back, and a scan of 100 B records runs 25 to 30 % slower for it.
 */
export const CLEAN_PASS_WINDOW = 1024 * 1024
/** Reads outside the window go through a buffer of this size. */
const CHUNK = 1024 * 1024

export class FileWindow implements ByteSource {
  buf: Buffer
  base = 0
  end = 0
  readonly span: number
  private chunk?: Buffer

  /** `backing` is a buffer to reuse (from the previous segment's window). */
  constructor(private readonly fd: number, readonly size: number, readonly file: string, backing?: Buffer, windowSize = WINDOW_SIZE) {
    this.span = windowSize
    const want = Math.min(size, windowSize)
    // Read where the record kernel can scan it in place.
    this.buf = backing && backing.length >= want ? backing : kernelBuffer(want)
  }

  load(from: number): void {
    const to = Math.min(this.size, from + this.span)
    const got = this.read(from, to - from, this.buf)
    // A file cut shorter since its size was taken reads as zeros past its end, as a hole would.
    if (got.length < to - from) this.buf.fill(0, got.length, to - from)
    this.base = from
    this.end = to
  }

  u32(at: number): number {
    if (at >= this.base && at + 4 <= this.end) return u32(this.buf, at - this.base)
    const b = this.read(at, 4, this.scratch())
    return b.length < 4 ? 0 : u32(b, 0)
  }

  crc(from: number, to: number): number {
    if (from >= this.base && to <= this.end) return zlibCrc32(this.buf.subarray(from - this.base, to - this.base)) >>> 0
    let c = 0
    for (let at = from; at < to;) {
      const b = this.read(at, Math.min(CHUNK, to - at), this.scratch())
      if (b.length === 0) break
      c = zlibCrc32(b, c)
      at += b.length
    }
    return c >>> 0
  }

  firstNonZero(from: number, to: number): number {
    for (let at = from; at < to;) {
      if (at >= this.base && at < this.end) {
        const stop = Math.min(to, this.end)
        const nz = firstNonZero(this.buf, at - this.base, stop - this.base)
        if (nz >= 0) return nz + this.base
        at = stop
        continue
      }
      const b = this.read(at, Math.min(CHUNK, to - at), this.scratch())
      if (b.length === 0) return -1
      const nz = firstNonZero(b, 0, b.length)
      if (nz >= 0) return at + nz
      at += b.length
    }
    return -1
  }

  lastNonZeroEnd(from: number, to: number): number {
    for (let end = Math.min(to, this.size); end > from;) {
      const at = Math.max(from, end - CHUNK)
      const b = this.read(at, end - at, this.scratch())
      const nz = lastNonZeroEnd(b, 0, b.length)
      if (nz >= 0) return at + nz
      end = at
    }
    return -1
  }

  /** The file's size now (it may have grown or shrunk since the window was made). */
  currentSize(): number {
    try {
      return fs.fstatSync(this.fd).size
    } catch (error) {
      throw fsError(error, this.file, 'stat')
    }
  }

  bytes(from: number, to: number): Buffer {
    if (from >= this.base && to <= this.end) return this.buf.subarray(from - this.base, to - this.base)
    return this.read(from, to - from)
  }

  private scratch(): Buffer {
    return (this.chunk ??= Buffer.allocUnsafe(CHUNK))
  }

  private read(at: number, length: number, into?: Buffer): Buffer {
    try {
      return readAt(this.fd, at, length, into)
    } catch (error) {
      throw fsError(error, this.file, 'read')
    }
  }
}
