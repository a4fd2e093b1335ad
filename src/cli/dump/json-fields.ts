// The JSON shape of a dump's records, damaged regions and segment headers,
// shared by the jsonl and json renderers.
import {crcHex} from '../../core/format/crc.js'
import {DumpDamage, DumpRecord, DumpSegment} from '../../core/dump/walk.js'
import {SegmentHeader} from '../../core/format/format.js'
import {formatMicros} from '../../core/format/header-check.js'
import {decodeShardexTransaction, ShardexTransaction} from '../../core/format/shardex-transaction.js'
import {DataEncoding} from './renderer.js'

export interface RecordJson {
  segment: number
  offset: number
  length: number
  crc32: string
  valid: true
  resynced: boolean
  data: string
  /** How `data` is written: the one asked for, or hex when the payload is not valid in it (utf8). */
  encoding: DataEncoding
  transaction?: ShardexTransaction
  decodeError?: {reason: string; offset: number}
}

export interface DamageJson {
  segment: number | null
  offset: number | null
  end: number | null
  kind: string
  severity: string
  message: string
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** `data` in `encoding` when every byte survives it; otherwise in hex, and says so. */
export function encodeData(data: Uint8Array, encoding: DataEncoding): {data: string; encoding: DataEncoding} {
  if (encoding === 'utf8') {
    try {
      return {data: utf8.decode(data), encoding}
    } catch {
      return {data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex'), encoding: 'hex'}
    }
  }
  return {data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(encoding), encoding}
}

export function recordJson(r: DumpRecord, encoding: DataEncoding, decode?: 'shardex'): RecordJson {
  const out: RecordJson = {segment: r.segment, offset: r.offset, length: r.length, crc32: crcHex(r.crc32), valid: true, resynced: r.resynced, ...encodeData(r.data, encoding)}
  if (decode === 'shardex') {
    const d = decodeShardexTransaction(r.data)
    if (d.ok) out.transaction = d.transaction
    else out.decodeError = {reason: d.reason, offset: d.offset}
  }
  return out
}

export function damageJson(d: DumpDamage): DamageJson {
  return {segment: d.segment, offset: d.offset, end: d.end, kind: d.kind, severity: d.severity, message: d.message}
}

function num(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
}

export function headerJson(h: SegmentHeader): Record<string, unknown> {
  const printable = h.magic.every((b) => b >= 0x20 && b < 0x7f)
  return {
    magic: printable ? h.magic.toString('latin1') : null,
    magicHex: h.magic.toString('hex'),
    version: h.version,
    headerSize: h.headerSize,
    padding12Hex: h.padding1.toString('hex'),
    dataOffset: num(h.dataOffset),
    checksum: h.checksum,
    padding28Hex: h.padding2.toString('hex'),
    createdAtUs: num(h.createdAtUs),
    createdAt: formatMicros(h.createdAtUs),
    modifiedAtUs: num(h.modifiedAtUs),
    modifiedAt: formatMicros(h.modifiedAtUs),
    reservedHex: h.reserved.toString('hex'),
    walReservedHex: h.walReserved.toString('hex'),
  }
}

export function segmentJson(s: DumpSegment): Record<string, unknown> {
  return {
    id: s.id,
    file: s.file,
    size: s.size,
    header: s.header ? headerJson(s.header) : null,
    problems: s.problems.map((p) => ({offset: p.offset, kind: p.kind, severity: p.severity, message: p.message})),
  }
}
