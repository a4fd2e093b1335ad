// The CRC of any byte range in constant time, from prefix registers: what
// lets resync test a candidate record of any length without reading its
// payload again. With Q(i) the raw register over [base, i), the zlib crc32
// of [a, e) is ~(Z(e - a, ~0 ^ Q(a)) ^ Q(e)), where Z(n, r) is the register
// r after n zero bytes: a linear map, kept as byte-sliced tables.
import {CRC_TABLE, crcRegister as crcRegisterImport, crcZeroByte} from '../format/crc.js'

// A module-local binding: loaders that turn imports into getters (tsx) would pay a property access per query.
const crcRegister = crcRegisterImport
const T = CRC_TABLE

/** One byte-sliced map (4 x 256 entries) per (k, m): m * 256^k zero bytes, m 1..255, k 0..3. */
let zeroMaps: Int32Array | undefined

function mapAt(k: number, m: number): number {
  return (k * 256 + m) * 1024
}

function apply(t: Int32Array, o: number, v: number): number {
  return t[o + (v & 0xff)] ^ t[o + 256 + ((v >>> 8) & 0xff)] ^ t[o + 512 + ((v >>> 16) & 0xff)] ^ t[o + 768 + (v >>> 24)]
}

function buildZeroMaps(): Int32Array {
  // 4 MiB, built once (a few ms) on the first resync; clean scans never build it.
  const t = new Int32Array(4 * 256 * 1024)
  for (let s = 0; s < 4; s++) for (let b = 0; b < 256; b++) t[mapAt(0, 1) + s * 256 + b] = crcZeroByte(b << (8 * s))
  for (let m = 2; m < 256; m++) {
    const o = mapAt(0, m)
    const prev = mapAt(0, m - 1)
    for (let i = 0; i < 1024; i++) t[o + i] = crcZeroByte(t[prev + i])
  }
  for (let k = 1; k < 4; k++) {
    // 256^k zero bytes: 255 * 256^(k-1) after 1 * 256^(k-1).
    const one = mapAt(k, 1)
    const a = mapAt(k - 1, 1)
    const b = mapAt(k - 1, 255)
    for (let s = 0; s < 4; s++) for (let v = 0; v < 256; v++) t[one + s * 256 + v] = apply(t, b, apply(t, a, v << (8 * s)))
    for (let m = 2; m < 256; m++) {
      const o = mapAt(k, m)
      const prev = mapAt(k, m - 1)
      for (let i = 0; i < 1024; i++) t[o + i] = apply(t, one, t[prev + i])
    }
  }
  return t
}

/** The raw register `r` after `n` zero bytes (n < 2^32). */
export function shiftZeros(r: number, n: number): number {
  const t = (zeroMaps ??= buildZeroMaps())
  for (let k = 0; k < 4; k++) {
    const m = (n >>> (8 * k)) & 0xff
    if (m !== 0) r = apply(t, mapAt(k, m), r)
  }
  return r
}

/**
 * Prefix registers over `buf[0, limit)`, one every `stride` bytes, computed
 * lazily only as far as a query reaches; memory is limit / stride * 4 bytes.
 */
export class CrcPrefix {
  private q: Int32Array
  /** Entries computed: q[j] is the register over [0, j * stride). */
  private filled = 1
  private readonly shift: number

  constructor(private readonly buf: Uint8Array, private readonly limit: number) {
    // 16-byte steps keep a query to two short table walks; very large in-memory buffers
    // (a writer's mapped segment) take 64 so the table stays a sixteenth of the buffer.
    this.shift = limit <= 64 * 1024 * 1024 ? 4 : 6
    this.q = new Int32Array(Math.min((limit >>> this.shift) + 1, 1 << 16))
  }

  /** The raw register over `buf[0, at)`. */
  register(at: number): number {
    const j = at >>> this.shift
    if (j >= this.filled) this.extend(j)
    // At most stride - 1 bytes, a table step each: cheaper inline than a call.
    const buf = this.buf
    let r = this.q[j]
    for (let i = j << this.shift; i < at; i++) r = T[(r ^ buf[i]) & 0xff] ^ (r >>> 8)
    return r
  }

  /** zlib's crc32 of `buf[a, e)`, `0 <= a <= e <= limit`. */
  crc(a: number, e: number): number {
    return ~(shiftZeros(~this.register(a), e - a) ^ this.register(e)) >>> 0
  }

  private extend(j: number): void {
    if (j >= this.q.length) {
      const max = (this.limit >>> this.shift) + 1
      const grown = new Int32Array(Math.min(max, Math.max(j + 1, this.q.length * 2)))
      grown.set(this.q.subarray(0, this.filled))
      this.q = grown
    }
    const q = this.q
    const step = 1 << this.shift
    let r = q[this.filled - 1]
    for (let i = this.filled; i <= j; i++) {
      r = crcRegister(r, this.buf, (i - 1) * step, i * step)
      q[i] = r
    }
    this.filled = j + 1
  }
}
