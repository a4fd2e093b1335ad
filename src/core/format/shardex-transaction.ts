// Decoder of Shardex `WalTransaction::serialize()` payloads: a 48-byte
// repr(C) header, then the operations as bincode 1.x with default options
// (little-endian, fixed-width integers, u64 lengths, u32 enum tags).
// Pure: reads bytes, never throws on bad input, says why a payload does not decode.
import {crc32, crcHex} from './crc.js'

/** `id: u128, timestamp_micros: u64, operation_count: u32, operations_data_size: u32, checksum: u32, reserved: [u8; 4]` and 8 bytes of trailing padding. */
export const TX_HEADER_SIZE = 48
/** The fields end here; bytes 40..48 are uninitialised padding that Shardex ignores. */
export const TX_FIELDS_END = 40

export const OPERATION_NAMES = ['AddPosting', 'RemoveDocument', 'StoreDocumentText', 'DeleteDocumentText'] as const
export type OperationName = (typeof OPERATION_NAMES)[number]

export interface ShardexOperation {
  op: OperationName
  variantIndex: number
  /** u128 as 32 hex digits, most significant first. */
  documentId: string
  start?: number
  length?: number
  vector?: Array<number | string>
  text?: string
}

export interface ShardexTransaction {
  /** u128 in decimal. */
  id: string
  idHex: string
  timestampMicros: number | string
  operationCount: number
  operationsSize: number
  checksum: string
  reservedHex: string
  paddingHex: string
  operations: ShardexOperation[]
}

export type DecodeResult = {ok: true; transaction: ShardexTransaction} | {ok: false; reason: string; offset: number}

class DecodeFailure extends Error {
  constructor(readonly reason: string, readonly offset: number) {
    super(reason)
  }
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** Reads bincode values from `buf`; offsets in failures are relative to the payload. */
class Reader {
  pos: number
  constructor(private readonly buf: Buffer, start: number, private readonly end: number, readonly base: number) {
    this.pos = start
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new DecodeFailure(`${what} needs ${n} bytes, ${this.end - this.pos} left`, this.pos - this.base)
  }

  u32(what: string): number {
    this.need(4, what)
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  u64(what: string): bigint {
    this.need(8, what)
    const v = this.buf.readBigUInt64LE(this.pos)
    this.pos += 8
    return v
  }

  u128Hex(what: string): string {
    this.need(16, what)
    const hex = Buffer.from(this.buf.subarray(this.pos, this.pos + 16)).reverse().toString('hex')
    this.pos += 16
    return hex
  }

  /** A bincode length (u64), checked against what is left at `itemSize` bytes an item. */
  length(what: string, itemSize: number): number {
    const at = this.pos
    const n = this.u64(`${what} length`)
    const left = BigInt(this.end - this.pos)
    if (n * BigInt(itemSize) > left) throw new DecodeFailure(`${what} length ${n} needs ${n * BigInt(itemSize)} bytes, ${left} left`, at - this.base)
    return Number(n)
  }

  f32(): number {
    const v = this.buf.readFloatLE(this.pos)
    this.pos += 4
    return v
  }

  string(what: string): string {
    const n = this.length(what, 1)
    const at = this.pos
    this.pos += n
    try {
      return utf8.decode(this.buf.subarray(at, at + n))
    } catch {
      throw new DecodeFailure(`${what} is not valid UTF-8`, at - this.base)
    }
  }
}

function safeNumber(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
}

/** JSON has no NaN or infinities: those floats are given as strings. */
function jsonFloat(v: number): number | string {
  return Number.isFinite(v) ? v : String(v)
}

function readOperation(r: Reader, index: number): ShardexOperation {
  const at = r.pos
  const tag = r.u32(`operation ${index} variant tag`)
  const op = OPERATION_NAMES[tag]
  if (op === undefined) throw new DecodeFailure(`operation ${index} has unknown variant tag ${tag} (expected 0..${OPERATION_NAMES.length - 1})`, at - r.base)
  const documentId = r.u128Hex(`operation ${index} document_id`)
  switch (op) {
    case 'AddPosting': {
      const start = r.u32(`operation ${index} start`)
      const length = r.u32(`operation ${index} length`)
      const n = r.length(`operation ${index} vector`, 4)
      const vector: Array<number | string> = new Array(n)
      for (let i = 0; i < n; i++) vector[i] = jsonFloat(r.f32())
      return {op, variantIndex: tag, documentId, start, length, vector}
    }
    case 'StoreDocumentText':
      return {op, variantIndex: tag, documentId, text: r.string(`operation ${index} text`)}
    default:
      return {op, variantIndex: tag, documentId}
  }
}

/**
 * Decodes `buf[start, end)` as a Shardex WalTransaction, checking what Shardex's
 * deserialize checks (sizes, operations checksum, operation count) and that no
 * bytes are left over.
 */
export function decodeShardexTransaction(buf: Buffer, start = 0, end = buf.length): DecodeResult {
  const size = end - start
  if (size < TX_HEADER_SIZE) return {ok: false, reason: `payload is ${size} bytes, shorter than the ${TX_HEADER_SIZE}-byte transaction header`, offset: 0}
  const idHex = Buffer.from(buf.subarray(start, start + 16)).reverse().toString('hex')
  const timestamp = buf.readBigUInt64LE(start + 16)
  const operationCount = buf.readUInt32LE(start + 24)
  const operationsSize = buf.readUInt32LE(start + 28)
  const checksum = buf.readUInt32LE(start + 32)
  const opsStart = start + TX_HEADER_SIZE
  if (operationsSize !== size - TX_HEADER_SIZE) {
    return {ok: false, reason: `operations_data_size is ${operationsSize}, but ${size - TX_HEADER_SIZE} bytes follow the header`, offset: 28}
  }
  const computed = crc32(buf, opsStart, end)
  if (computed !== checksum) {
    return {ok: false, reason: `operations checksum: stored ${crcHex(checksum)}, computed ${crcHex(computed)}`, offset: 32}
  }
  const r = new Reader(buf, opsStart, end, start)
  const operations: ShardexOperation[] = []
  try {
    const n = r.length('operations', 4 + 16)
    for (let i = 0; i < n; i++) operations.push(readOperation(r, i))
    if (r.pos !== end) throw new DecodeFailure(`${end - r.pos} bytes left over after ${n} operation(s)`, r.pos - start)
    if (n !== operationCount) throw new DecodeFailure(`operation_count is ${operationCount}, but ${n} operation(s) are encoded`, 24)
  } catch (error) {
    if (error instanceof DecodeFailure) return {ok: false, reason: error.reason, offset: error.offset}
    throw error
  }
  return {
    ok: true,
    transaction: {
      id: BigInt(`0x${idHex}`).toString(),
      idHex,
      timestampMicros: safeNumber(timestamp),
      operationCount,
      operationsSize,
      checksum: crcHex(checksum),
      reservedHex: buf.toString('hex', start + 36, start + 40),
      paddingHex: buf.toString('hex', start + TX_FIELDS_END, start + TX_HEADER_SIZE),
      operations,
    },
  }
}

/** One line a person can read: `tx 5 @1700000003000000: RemoveDocument(…01), StoreDocumentText(…01, "café ☃")`. */
export function describeTransaction(tx: ShardexTransaction): string {
  const ops = tx.operations.map((o) => {
    const doc = o.documentId.replace(/^0+(?=.)/, '')
    switch (o.op) {
      case 'AddPosting':
        return `AddPosting(doc ${doc}, ${o.start}+${o.length}, [${(o.vector ?? []).join(', ')}])`
      case 'StoreDocumentText':
        return `StoreDocumentText(doc ${doc}, ${JSON.stringify(o.text)})`
      default:
        return `${o.op}(doc ${doc})`
    }
  })
  return `tx ${tx.id} @${tx.timestampMicros}: ${ops.join(', ')}`
}

/** The names `--op` takes, one per operation variant. */
export const OPERATION_FLAG_NAMES: Record<string, OperationName> = {
  'add-posting': 'AddPosting',
  'remove-document': 'RemoveDocument',
  'store-document-text': 'StoreDocumentText',
  'delete-document-text': 'DeleteDocumentText',
}

/** Bytes of a transaction that belong to no operation: its header and the bincode length of its operations. */
export const TX_FRAMING_SIZE = TX_HEADER_SIZE + 8

/** The bincode size of a decoded operation: variant tag, document id, then its fields. */
export function operationSize(o: ShardexOperation): number {
  const base = 4 + 16
  switch (o.op) {
    case 'AddPosting':
      return base + 4 + 4 + 8 + 4 * (o.vector?.length ?? 0)
    case 'StoreDocumentText':
      return base + 8 + Buffer.byteLength(o.text ?? '', 'utf8')
    default:
      return base
  }
}
