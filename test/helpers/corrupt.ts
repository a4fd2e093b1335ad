// Building small WALs for corruption tests, naming byte edits on them, and an
// independent reader that applies Shardex's own open checks (its code, not
// walctl's: the `crc` package as the CRC oracle, its own record walk).
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32 as crcOracle} from 'crc'
import {WalManager} from '../../src/core/manager.js'
import {segmentFileName} from '../../src/core/names.js'
import {tempDir} from './fixtures.js'

export const DEFAULT_SEGMENT_SIZE = 512
/** Payload length of every record in a built WAL: records are 48 bytes, 8 to a 512-byte segment. */
export const PAYLOAD = 40
export const RECORD = PAYLOAD + 8
export const PER_SEGMENT = 8
/** A fixed creation time for built segments (2026-01-01T00:00:00Z), in microseconds. */
export const CREATED_US = 1_767_225_600_000_000n

export interface BuiltWal {
  dir: string
  segmentSize: number
  /** Every record appended, in order. */
  payloads: Buffer[]
  positions: Array<{segment: number; offset: number}>
}

export function payloadFor(i: number, length = PAYLOAD): Buffer {
  const text = `record-${String(i).padStart(4, '0')}:`
  return Buffer.from(text.padEnd(length, String.fromCharCode(97 + (i % 26))).slice(0, length))
}

/**
 * A WAL of `count` records of 40 bytes in 512-byte segments: records 0-7 in
 * segment 1, 8-15 in 2, 16-19 in 3 for the default 20. Record i of segment s
 * starts at 89 + 48 * (i - 8 * (s - 1)).
 */
export function buildWal(count = 20, segmentSize = DEFAULT_SEGMENT_SIZE): BuiltWal {
  const dir = path.join(tempDir('walctl-corrupt-'), 'wal')
  const manager = WalManager.init(dir, {segmentSize, createdAtUs: CREATED_US})
  const payloads: Buffer[] = []
  const positions: BuiltWal['positions'] = []
  for (let i = 0; i < count; i++) {
    const p = payloadFor(i)
    payloads.push(p)
    positions.push(manager.append(p))
  }
  manager.close()
  return {dir, segmentSize, payloads, positions}
}

export function segPath(wal: BuiltWal | string, id: number): string {
  return path.join(typeof wal === 'string' ? wal : wal.dir, segmentFileName(id))
}

/** Offset of record `i`'s header in its segment. */
export function recordOffset(wal: BuiltWal, i: number): number {
  return wal.positions[i].offset
}

export function writeBytes(file: string, offset: number, bytes: ArrayLike<number>): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.writeSync(fd, Buffer.from(bytes as number[]), 0, bytes.length, offset)
  } finally {
    fs.closeSync(fd)
  }
}

export function u32le(n: number): number[] {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return [...b]
}

export function u64le(n: bigint): number[] {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(n)
  return [...b]
}

export function flipByte(file: string, offset: number): void {
  const b = fs.readFileSync(file)
  writeBytes(file, offset, [b[offset] ^ 0xff])
}

export function zeroRange(file: string, from: number, to: number): void {
  writeBytes(file, from, Buffer.alloc(to - from))
}

/** A copy of a WAL directory in a fresh temporary directory. */
export function cloneWal(dir: string): string {
  const dest = path.join(tempDir('walctl-clone-'), 'wal')
  fs.cpSync(dir, dest, {recursive: true})
  return dest
}

export interface ShardexOpen {
  /** Problems Shardex's open would refuse, or that it would silently hide. */
  errors: string[]
  /** The records Shardex's scan finds, in WAL order. */
  records: Buffer[]
}

const SEGMENT = /^wal_(\d{6,})\.log$/

/**
 * Opens every segment as Shardex does and more strictly: header fields,
 * timestamps not ahead of `nowUs`, records walked until a zero length, and
 * nothing but zeros after the last record (so that no record is hidden).
 * Also requires every segment to have the same size and no id gaps.
 */
export function shardexOpen(dir: string, nowUs: bigint = BigInt(Date.now()) * 1000n): ShardexOpen {
  const errors: string[] = []
  const records: Buffer[] = []
  const ids = fs.readdirSync(dir).map((n) => SEGMENT.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b)
  if (ids.length === 0) errors.push('no segments')
  for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1] + 1) errors.push(`gap between ${ids[i - 1]} and ${ids[i]}`)
  const sizes = new Set<number>()
  for (const id of ids) {
    const name = segmentFileName(id)
    const buf = fs.readFileSync(path.join(dir, name))
    sizes.add(buf.length)
    if (buf.length < 89) {
      errors.push(`${name}: ${buf.length} bytes`)
      continue
    }
    if (buf.toString('latin1', 0, 4) !== 'WLOG') errors.push(`${name}: magic`)
    if (buf.readUInt32LE(4) !== 1) errors.push(`${name}: version`)
    if (buf.readUInt32LE(8) !== 80) errors.push(`${name}: header_size`)
    if (buf.readBigUInt64LE(16) < 80n) errors.push(`${name}: data_offset`)
    const created = buf.readBigUInt64LE(32)
    const modified = buf.readBigUInt64LE(40)
    if (created > nowUs || modified > nowUs) errors.push(`${name}: timestamp in the future`)
    if (modified < created) errors.push(`${name}: modified before created`)
    if (buf.subarray(48, 80).some((b) => b !== 0)) errors.push(`${name}: reserved bytes`)
    let off = 89
    while (off + 8 <= buf.length) {
      const length = buf.readUInt32LE(off)
      if (length === 0) break
      if (off + 8 + length > buf.length) {
        errors.push(`${name}: record at ${off} runs past the capacity`)
        break
      }
      const data = buf.subarray(off + 8, off + 8 + length)
      if ((crcOracle(data) >>> 0) !== buf.readUInt32LE(off + 4)) {
        errors.push(`${name}: corrupted record at ${off}`)
        break
      }
      records.push(Buffer.from(data))
      off += 8 + length
    }
    const tail = buf.subarray(Math.min(off, buf.length)).findIndex((b) => b !== 0)
    if (tail >= 0) errors.push(`${name}: non-zero byte at ${off + tail} after the last record`)
  }
  if (sizes.size > 1) errors.push(`segments of different sizes: ${[...sizes].join(', ')}`)
  return {errors, records}
}
