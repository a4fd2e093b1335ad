// What the record decoder reads from: a segment's bytes, either all in memory
// (a Buffer or a mapping) or through a window of bounded size sliding over a
// file. The decoder works on the loaded part directly and asks the source for
// anything outside it.
import {crc32} from '../format/crc.js'

export interface ByteSource {
  /** `buf[i - base]` is the segment's byte `i` for `base <= i < end`. */
  readonly buf: Buffer
  readonly base: number
  readonly end: number
  /** Bytes addressable (the file size). */
  readonly size: number
  /** Bytes one load holds; a record at most this long is checked in memory. */
  readonly span: number
  /** Loads the window so that it starts at `from`. */
  load(from: number): void
  /** The little-endian u32 at `at` (`at + 4 <= size`), loaded or not. */
  u32(at: number): number
  /** zlib's crc32 of `[from, to)`, loaded or not (streamed when it is not). */
  crc(from: number, to: number): number
  /** Index of the first non-zero byte in `[from, to)`, or -1. */
  firstNonZero(from: number, to: number): number
  /** One past the last non-zero byte in `[from, to)`, or -1. */
  lastNonZeroEnd(from: number, to: number): number
  /** Bytes `[from, to)`: a view when loaded, else a read copy. */
  bytes(from: number, to: number): Buffer
}

export function u32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0
}

const ZERO_BLOCK = new Uint8Array(64 * 1024)

/** Index of the first non-zero byte in `buf[from, to)`, or -1. */
export function firstNonZero(buf: Uint8Array, from: number, to: number): number {
  // Byte by byte near `from` (damage is often close), then whole blocks compared with a block of zeros
  // by memcmp: a segment's zero tail is tens of MiB, 90 ms a 64 MiB byte by byte, under 10 ms this way.
  const near = Math.min(to, from + 256)
  for (let i = from; i < near; i++) if (buf[i] !== 0) return i
  for (let at = near; at < to; at += ZERO_BLOCK.length) {
    const end = Math.min(to, at + ZERO_BLOCK.length)
    if (Buffer.compare(buf.subarray(at, end), ZERO_BLOCK.subarray(0, end - at)) !== 0) {
      for (let i = at; i < end; i++) if (buf[i] !== 0) return i
    }
  }
  return -1
}

/** One past the last non-zero byte in `buf[from, to)`, or -1 when all are zero. */
export function lastNonZeroEnd(buf: Uint8Array, from: number, to: number): number {
  const near = Math.max(from, to - 256)
  for (let i = to - 1; i >= near; i--) if (buf[i] !== 0) return i + 1
  for (let end = near; end > from; end -= ZERO_BLOCK.length) {
    const at = Math.max(from, end - ZERO_BLOCK.length)
    if (Buffer.compare(buf.subarray(at, end), ZERO_BLOCK.subarray(0, end - at)) !== 0) {
      for (let i = end - 1; i >= at; i--) if (buf[i] !== 0) return i + 1
    }
  }
  return -1
}

/** A segment wholly in memory: everything is loaded. */
export class MemorySource implements ByteSource {
  readonly base = 0
  readonly end: number
  readonly size: number
  readonly span = Infinity

  constructor(readonly buf: Buffer) {
    this.end = buf.length
    this.size = buf.length
  }

  load(): void {}

  u32(at: number): number {
    return u32(this.buf, at)
  }

  crc(from: number, to: number): number {
    return crc32(this.buf, from, to)
  }

  firstNonZero(from: number, to: number): number {
    return firstNonZero(this.buf, from, to)
  }

  lastNonZeroEnd(from: number, to: number): number {
    return lastNonZeroEnd(this.buf, from, to)
  }

  bytes(from: number, to: number): Buffer {
    return this.buf.subarray(from, to)
  }
}
