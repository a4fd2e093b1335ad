// The one module that knows the Shardex WAL segment layout: every byte offset
// and size lives here. docs/FORMAT.md describes the same layout in prose, and
// test/format-doc.test.ts checks the two agree.

/** `WLOG` in ASCII. */
export const MAGIC = Buffer.from('WLOG', 'ascii')
export const VERSION = 1
/** Size of the standard file header that Shardex's `StandardHeader` occupies. */
export const HEADER_SIZE = 80
/** Shardex requires `data_offset >= 80`; records start at 89 whatever it says. */
export const MIN_DATA_OFFSET = 80
/** Nine bytes Shardex reserves after the standard header before the first record. */
export const WAL_RESERVED_SIZE = 9
export const FIRST_RECORD_OFFSET = HEADER_SIZE + WAL_RESERVED_SIZE // 89
/** `[u32 data_length][u32 crc32(data)]` before each payload. */
export const RECORD_HEADER_SIZE = 8

/** Field positions inside the 80-byte header (all integers little-endian). */
export const FIELD = {
  magic: {offset: 0, size: 4},
  version: {offset: 4, size: 4},
  headerSize: {offset: 8, size: 4},
  padding1: {offset: 12, size: 4},
  dataOffset: {offset: 16, size: 8},
  checksum: {offset: 24, size: 4},
  padding2: {offset: 28, size: 4},
  createdAt: {offset: 32, size: 8},
  modifiedAt: {offset: 40, size: 8},
  reserved: {offset: 48, size: 32},
  walReserved: {offset: 80, size: 9},
} as const

/** Smallest segment that can hold one record of one byte. */
export const MIN_SEGMENT_SIZE = FIRST_RECORD_OFFSET + RECORD_HEADER_SIZE + 1
/**
 * Largest segment walctl creates or maps for writing. mmap-io's msync binding
 * takes 32-bit signed offsets and lengths, so 1 GiB keeps well inside them.
 */
export const MAX_SEGMENT_SIZE = 1024 * 1024 * 1024
export const DEFAULT_SEGMENT_SIZE = 1024 * 1024

/** Largest payload a segment of `segmentSize` bytes can hold. */
export function maxPayloadSize(segmentSize: number): number {
  return segmentSize - FIRST_RECORD_OFFSET - RECORD_HEADER_SIZE
}

export interface SegmentHeader {
  magic: Buffer
  version: number
  headerSize: number
  padding1: Buffer
  dataOffset: bigint
  checksum: number
  padding2: Buffer
  /** Microseconds since the Unix epoch. */
  createdAtUs: bigint
  modifiedAtUs: bigint
  reserved: Buffer
  walReserved: Buffer
}

function slice(buf: Uint8Array, field: {offset: number; size: number}): Buffer {
  return Buffer.from(buf.subarray(field.offset, field.offset + field.size))
}

/** Decodes the 89 bytes before the first record. `buf` must hold at least 89 bytes. */
export function decodeHeader(buf: Buffer): SegmentHeader {
  if (buf.length < FIRST_RECORD_OFFSET) throw new RangeError(`header needs ${FIRST_RECORD_OFFSET} bytes, got ${buf.length}`)
  return {
    magic: slice(buf, FIELD.magic),
    version: buf.readUInt32LE(FIELD.version.offset),
    headerSize: buf.readUInt32LE(FIELD.headerSize.offset),
    padding1: slice(buf, FIELD.padding1),
    dataOffset: buf.readBigUInt64LE(FIELD.dataOffset.offset),
    checksum: buf.readUInt32LE(FIELD.checksum.offset),
    padding2: slice(buf, FIELD.padding2),
    createdAtUs: buf.readBigUInt64LE(FIELD.createdAt.offset),
    modifiedAtUs: buf.readBigUInt64LE(FIELD.modifiedAt.offset),
    reserved: slice(buf, FIELD.reserved),
    walReserved: slice(buf, FIELD.walReserved),
  }
}

/** Encodes a fresh header as Shardex writes it, padding and reserved bytes zero. */
export function encodeHeader(createdAtUs: bigint, modifiedAtUs: bigint = createdAtUs): Buffer {
  const buf = Buffer.alloc(FIRST_RECORD_OFFSET)
  MAGIC.copy(buf, FIELD.magic.offset)
  buf.writeUInt32LE(VERSION, FIELD.version.offset)
  buf.writeUInt32LE(HEADER_SIZE, FIELD.headerSize.offset)
  buf.writeBigUInt64LE(BigInt(MIN_DATA_OFFSET), FIELD.dataOffset.offset)
  buf.writeUInt32LE(0, FIELD.checksum.offset)
  buf.writeBigUInt64LE(createdAtUs, FIELD.createdAt.offset)
  buf.writeBigUInt64LE(modifiedAtUs, FIELD.modifiedAt.offset)
  return buf
}

export function nowMicros(): bigint {
  return BigInt(Date.now()) * 1000n
}

export interface RecordHeader {
  length: number
  crc32: number
}

export function decodeRecordHeader(buf: Buffer, offset: number): RecordHeader {
  return {length: buf.readUInt32LE(offset), crc32: buf.readUInt32LE(offset + 4)}
}

export function encodeRecordHeader(buf: Buffer, offset: number, length: number, crc32: number): void {
  buf.writeUInt32LE(length, offset)
  buf.writeUInt32LE(crc32, offset + 4)
}

/** Bytes a record of `payloadLength` takes in a segment. */
export function recordSize(payloadLength: number): number {
  return RECORD_HEADER_SIZE + payloadLength
}
