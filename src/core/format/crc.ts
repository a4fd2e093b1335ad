// CRC-32/IEEE (zlib's crc32). zlib's native crc32 runs at several GB/s but
// each call from JavaScript costs a fixed few hundred nanoseconds (a view to
// make, a binding to cross); for the small records a WAL is full of, a
// slicing-by-8 table loop in JavaScript is faster. bench/run.ts measures the
// switch point (docs/PERFORMANCE.md).
import {crc32 as zlibCrc32} from 'node:zlib'

/** Ranges shorter than this are checksummed in JavaScript, longer ones by zlib. */
export const JS_CRC_MAX = 256

// Sixteen tables: crc32Js uses the first eight, crc32View all of them.
const TABLE = new Int32Array(256 * 16)
/** The byte-at-a-time table (the first 256 entries), for loops that step a byte or a few. */
export const CRC_TABLE = TABLE.subarray(0, 256)
/** All sixteen, table k at k * 256: entry n is the register after byte n then k zero bytes (the record kernel's copy). */
export const CRC_TABLES: Int32Array = TABLE
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  TABLE[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n]
  for (let k = 1; k < 16; k++) {
    c = TABLE[c & 0xff] ^ (c >>> 8)
    TABLE[k * 256 + n] = c
  }
}

/** CRC-32/IEEE of `data[start, end)` by table lookups, eight bytes a step. */
export function crc32Js(data: Uint8Array, start: number, end: number): number {
  return ~crcRegister(-1, data, start, end) >>> 0
}

/**
 * The raw CRC register (no initial or final inversion) after feeding
 * `data[start, end)` to a register holding `c`: what range CRCs are built from.
 */
export function crcRegister(c: number, data: Uint8Array, start: number, end: number): number {
  const t = TABLE
  let i = start
  const last8 = end - 8
  while (i <= last8) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    c = t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)]
      ^ t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^ t[256 + data[i + 6]] ^ t[data[i + 7]]
    i += 8
  }
  while (i < end) c = t[(c ^ data[i++]) & 0xff] ^ (c >>> 8)
  return c
}

/** The register after one byte. */
export function crcByte(c: number, b: number): number {
  return TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
}

/** The register after one zero byte: the step every zero-run shift is composed of. */
export function crcZeroByte(c: number): number {
  return TABLE[c & 0xff] ^ (c >>> 8)
}

/**
 * CRC-32/IEEE of `bytes[start, end)`, where `view` is a DataView over the
 * same memory as `bytes`: sixteen bytes a step, read as four 32-bit words
 * (one load each, where crc32Js makes four of a byte). About 40% less per
 * 100 B record than crc32Js here (docs/PERFORMANCE.md); the append path keeps
 * a view of its segment and checksums each record where it was just copied.
 * Long ranges go to zlib, as in crc32.
 */
export function crc32View(view: DataView, bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= JS_CRC_MAX) return zlibCrc32(bytes.subarray(start, end)) >>> 0
  const t = TABLE
  let c = -1
  let i = start
  for (const last = end - 16; i <= last; i += 16) {
    c ^= view.getInt32(i, true)
    const a = view.getInt32(i + 4, true)
    const b = view.getInt32(i + 8, true)
    const d = view.getInt32(i + 12, true)
    c = t[3840 + (c & 0xff)] ^ t[3584 + ((c >>> 8) & 0xff)] ^ t[3328 + ((c >>> 16) & 0xff)] ^ t[3072 + (c >>> 24)]
      ^ t[2816 + (a & 0xff)] ^ t[2560 + ((a >>> 8) & 0xff)] ^ t[2304 + ((a >>> 16) & 0xff)] ^ t[2048 + (a >>> 24)]
      ^ t[1792 + (b & 0xff)] ^ t[1536 + ((b >>> 8) & 0xff)] ^ t[1280 + ((b >>> 16) & 0xff)] ^ t[1024 + (b >>> 24)]
      ^ t[768 + (d & 0xff)] ^ t[512 + ((d >>> 8) & 0xff)] ^ t[256 + ((d >>> 16) & 0xff)] ^ t[d >>> 24]
  }
  if (i <= end - 8) {
    c ^= view.getInt32(i, true)
    const a = view.getInt32(i + 4, true)
    c = t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)]
      ^ t[768 + (a & 0xff)] ^ t[512 + ((a >>> 8) & 0xff)] ^ t[256 + ((a >>> 16) & 0xff)] ^ t[a >>> 24]
    i += 8
  }
  if (i <= end - 4) {
    c ^= view.getInt32(i, true)
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24]
    i += 4
  }
  while (i < end) c = t[(c ^ bytes[i++]) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}

/** CRC-32/IEEE over `data[start, end)`: in JavaScript for short ranges, natively through zlib for long ones. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (end - start < JS_CRC_MAX) return crc32Js(data, start, end)
  return zlibCrc32(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0
}

export function crcHex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0')
}
