// The record decoder: walks `[len][crc][data]` records in one segment's bytes,
// classifies whatever stops the walk, and resyncs past damage to find the valid
// records hidden behind it. Pure: it reads a Buffer and never touches a file.
import {crc32, crcHex} from './crc.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from './format.js'

export type RecordDamageKind = 'crc-mismatch' | 'bad-length' | 'zero-length' | 'partial-record' | 'debris'

/** A byte range `[offset, end)` of a segment that holds no valid record. */
export interface DamagedRegion {
  offset: number
  end: number
  kind: RecordDamageKind
  message: string
  /** A valid record was found after this region in the same segment. */
  hidesRecords: boolean
}

/**
 * Called for each valid record: `offset` is the record header's offset, the
 * payload is `buf[offset + 8, offset + 8 + length)`. Return false to stop.
 */
export type RecordVisitor = (offset: number, length: number, crc32: number, resynced: boolean) => boolean | void

export interface RecordScanOptions {
  /** Bytes of the segment that count (its file size); defaults to `buf.length`. */
  capacity?: number
  /** The WAL's nominal segment size; a record cut by a shorter file is a partial record. */
  segmentSize?: number
  start?: number
  onRecord?: RecordVisitor
  /** Called for each damaged region as soon as it is classified. */
  onDamage?: (region: DamagedRegion) => void
}

export interface RecordScanResult {
  records: number
  /** End of the last valid record before any damage: where a writer resumes. */
  cleanEnd: number
  /** End of the last valid record found anywhere, resynced ones included. */
  lastRecordEnd: number
  damage: DamagedRegion[]
  /** The visitor asked to stop early. */
  stopped: boolean
}

const ZERO_BLOCK = new Uint8Array(64 * 1024)

/** Index of the first non-zero byte in `[from, to)`, or -1. */
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

/** One past the last non-zero byte in `[from, to)`, or -1 when all are zero. */
export function lastNonZeroEnd(buf: Uint8Array, from: number, to: number): number {
  // As firstNonZero, from the other end.
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

function u32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0
}

/** True when a complete record with a matching CRC starts at `at`. */
export function isValidRecordAt(buf: Uint8Array, at: number, capacity: number): boolean {
  if (at + RECORD_HEADER_SIZE >= capacity) return false
  const length = u32(buf, at)
  if (length === 0 || length > capacity - at - RECORD_HEADER_SIZE) return false
  return crc32(buf, at + RECORD_HEADER_SIZE, at + RECORD_HEADER_SIZE + length) === u32(buf, at + 4)
}

/**
 * The next offset at or after `from` where a complete valid record parses, or
 * -1. A record's length is never zero, so runs of zeros are skipped whole.
 */
export function resync(buf: Uint8Array, from: number, capacity: number): number {
  const last = capacity - RECORD_HEADER_SIZE - 1
  for (let q = from; q <= last; q++) {
    if (u32(buf, q) === 0) {
      const nz = firstNonZero(buf, q + 4, capacity)
      if (nz < 0) return -1
      // The length field of a record at q' covers q'..q'+3, so it can first hold a non-zero byte at nz - 3.
      q = Math.max(q, nz - 4)
      continue
    }
    if (isValidRecordAt(buf, q, capacity)) return q
  }
  return -1
}

export function scanRecords(buf: Buffer, options: RecordScanOptions = {}): RecordScanResult {
  const capacity = options.capacity ?? buf.length
  const segmentSize = options.segmentSize ?? capacity
  const {onRecord, onDamage} = options
  const damage: DamagedRegion[] = []
  let records = 0
  let cleanEnd = -1
  let lastRecordEnd = options.start ?? FIRST_RECORD_OFFSET
  let off = lastRecordEnd
  let resynced = false
  let stopped = false

  const report = (region: Omit<DamagedRegion, 'hidesRecords' | 'end'>, next: number, minEnd: number): void => {
    if (cleanEnd < 0) cleanEnd = lastRecordEnd
    // Only a tail region needs its last non-zero byte: a scan per region would be quadratic.
    const end = next >= 0 ? next : Math.min(capacity, Math.max(minEnd, lastNonZeroEnd(buf, region.offset, capacity)))
    const full: DamagedRegion = {...region, end, hidesRecords: next >= 0}
    damage.push(full)
    onDamage?.(full)
  }

  while (off < capacity) {
    if (off + RECORD_HEADER_SIZE > capacity) {
      const nz = firstNonZero(buf, off, capacity)
      if (nz < 0) break
      const kind = capacity < segmentSize ? 'partial-record' : 'debris'
      const left = capacity - off
      report({offset: off, kind, message: kind === 'debris'
        ? `non-zero bytes in the last ${left} bytes, too few for a record header`
        : `record header cut by the end of the file (${left} of ${RECORD_HEADER_SIZE} bytes)`}, -1, capacity)
      break
    }
    const length = u32(buf, off)
    let next: number
    if (length === 0) {
      const nz = firstNonZero(buf, off, capacity)
      if (nz < 0) break
      next = resync(buf, Math.max(off + 1, nz - 3), capacity)
      if (next >= 0) {
        report({offset: off, kind: 'zero-length', message: `zero record length, but non-zero bytes follow at ${nz} and a valid record at ${next}`}, next, nz + 1)
      } else {
        report({offset: nz, kind: 'debris', message: `non-zero bytes after the last valid record (which ends at ${lastRecordEnd})`}, -1, nz + 1)
      }
    } else if (length > capacity - off - RECORD_HEADER_SIZE) {
      const partial = capacity < segmentSize && length <= segmentSize - off - RECORD_HEADER_SIZE
      next = resync(buf, off + 1, capacity)
      report(partial
        ? {offset: off, kind: 'partial-record', message: `record of ${length} bytes cut by the end of the file at ${capacity}`}
        : {offset: off, kind: 'bad-length', message: `record length ${length} runs past the segment's capacity (${capacity - off - RECORD_HEADER_SIZE} bytes left)`},
        next, Math.min(capacity, off + RECORD_HEADER_SIZE))
    } else {
      const dataStart = off + RECORD_HEADER_SIZE
      const dataEnd = dataStart + length
      const stored = u32(buf, off + 4)
      const computed = crc32(buf, dataStart, dataEnd)
      if (computed === stored) {
        records++
        lastRecordEnd = dataEnd
        if (onRecord && onRecord(off, length, stored, resynced) === false) {
          stopped = true
          off = dataEnd
          break
        }
        off = dataEnd
        continue
      }
      // Damage confined to this record's data leaves the next record in place; try there first.
      next = isValidRecordAt(buf, dataEnd, capacity) ? dataEnd : resync(buf, off + 1, capacity)
      report({offset: off, kind: 'crc-mismatch', message: `record of ${length} bytes: stored crc32 ${crcHex(stored)}, computed ${crcHex(computed)}`}, next, dataEnd)
    }
    if (next < 0) break
    off = next
    resynced = true
  }
  return {records, cleanEnd: cleanEnd < 0 ? lastRecordEnd : cleanEnd, lastRecordEnd, damage, stopped}
}
