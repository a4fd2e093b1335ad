// The mutations of a fuzz case: each edits the WAL's files in memory, adds a
// line saying what it did, and keeps the ground truth in step (records moved
// by a rename or an insertion, copied by a duplication, or written whole).
import {crc32} from 'node:zlib'
import {FIELD, FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../../src/core/format/format.js'
import {parseSegmentFileName, segmentFileName} from '../../src/core/format/names.js'
import type {FuzzCase, TruthRecord} from './generate.js'
import {ADVERSARIAL_PATTERNS, recordBytes, repeatPattern} from './generate.js'
import {Rng} from './prng.js'

export const MUTATION_WEIGHTS = {flip: 14, truncate: 8, zero: 8, dup: 7, insert: 7, length: 12, header: 8, delete: 4, rename: 5, copy: 3, resize: 4, torn: 10, pattern: 10} as const
export type MutationKind = keyof typeof MUTATION_WEIGHTS

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`

function segmentNames(c: FuzzCase): string[] {
  return [...c.files.keys()].filter((n) => parseSegmentFileName(n) !== undefined).sort((a, b) => parseSegmentFileName(a)! - parseSegmentFileName(b)!)
}

function recordsOf(c: FuzzCase, file: string): TruthRecord[] {
  return c.truth.filter((r) => r.file === file)
}

/** End of the last record written in `file` (89 when none): where a writer would append next. */
function writeEnd(c: FuzzCase, file: string): number {
  return recordsOf(c, file).reduce((end, r) => Math.max(end, r.offset + RECORD_HEADER_SIZE + r.length), FIRST_RECORD_OFFSET)
}

/** An interesting offset in a file: a record's start, a field of its header, the write end, or anywhere. */
function pickOffset(c: FuzzCase, rng: Rng, file: string, size: number): number {
  const recs = recordsOf(c, file)
  const where = rng.weighted({record: recs.length > 0 ? 45 : 0, end: 15, header: 10, anywhere: 30})
  let at: number
  if (where === 'record') {
    const r = rng.pick(recs)
    at = r.offset + rng.pick([0, 0, 1, 3, 4, 7, 8, rng.int(RECORD_HEADER_SIZE + r.length)])
  } else if (where === 'end') at = writeEnd(c, file) + rng.between(-2, 4)
  else if (where === 'header') at = rng.int(FIRST_RECORD_OFFSET)
  else at = rng.int(Math.max(1, size))
  return Math.max(0, Math.min(at, Math.max(0, size - 1)))
}

/** Buffer.fill that clamps to the file (a file may have been cut by an earlier mutation). */
function zeroIn(buf: Buffer, from: number, to: number): void {
  buf.fill(0, Math.min(buf.length, Math.max(0, from)), Math.min(buf.length, Math.max(0, to)))
}

function overwrite(buf: Buffer, at: number, bytes: Buffer): void {
  if (at < buf.length) bytes.copy(buf, at, 0, Math.min(bytes.length, buf.length - at))
}

/** Records wholly inside `[from, from + n)` of `src` appear again at `to` in `dest` (when they fit there). */
function copyTruth(c: FuzzCase, src: string, from: number, n: number, dest: string, to: number, destSize: number): void {
  for (const r of recordsOf(c, src)) {
    const end = r.offset + RECORD_HEADER_SIZE + r.length
    const at = to + r.offset - from
    if (r.offset >= from && end <= from + n && at + RECORD_HEADER_SIZE + r.length <= destSize) c.truth.push({...r, file: dest, offset: at})
  }
}

function flip(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  if (buf.length === 0) return `flip ${name}: empty file, nothing flipped`
  const at = pickOffset(c, rng, name, buf.length)
  const n = rng.between(1, 4)
  const done: string[] = []
  for (let i = 0; i < n; i++) {
    const p = Math.min(buf.length - 1, at + i * rng.between(0, 3))
    const mask = rng.between(1, 255)
    buf[p] ^= mask
    done.push(`${p}^${hex(mask)}`)
  }
  return `flip ${name}: ${done.join(' ')}`
}

function truncate(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const where = rng.weighted({header: 15, record: 40, anywhere: 30, end: 15})
  let size: number
  if (where === 'header') size = rng.chance(0.3) ? FIRST_RECORD_OFFSET : rng.int(FIRST_RECORD_OFFSET + 1)
  else if (where === 'end') size = Math.max(0, buf.length - rng.between(1, 16))
  else if (where === 'anywhere') size = rng.int(buf.length)
  else size = pickOffset(c, rng, name, buf.length)
  c.files.set(name, buf.subarray(0, size))
  return `truncate ${name}: ${buf.length} -> ${size} bytes (${where})`
}

function zero(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const at = pickOffset(c, rng, name, buf.length)
  const n = rng.chance(0.2) ? buf.length - at : rng.between(1, rng.pick([4, 8, 64, 512]))
  zeroIn(buf, at, at + n)
  return `zero ${name}: [${at}, ${Math.min(buf.length, at + n)})`
}

function dup(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const names = segmentNames(c)
  const src = rng.chance(0.7) || names.length === 0 ? name : rng.pick(names)
  const sbuf = c.files.get(src)!
  const from = pickOffset(c, rng, src, sbuf.length)
  const recs = recordsOf(c, src).filter((r) => r.offset >= from)
  const n = rng.chance(0.5) && recs.length > 0 ? recs[0].offset - from + RECORD_HEADER_SIZE + recs[0].length * rng.between(1, 2) : rng.between(1, 600)
  const bytes = Buffer.from(sbuf.subarray(from, Math.min(sbuf.length, from + n)))
  const to = pickOffset(c, rng, name, buf.length)
  overwrite(buf, to, bytes)
  copyTruth(c, src, from, bytes.length, name, to, buf.length)
  ;(c.moved ??= []).push({file: name, from: to, to: to + bytes.length})
  return `dup ${src}[${from}, ${from + bytes.length}) -> ${name}@${to}`
}

function insert(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const at = pickOffset(c, rng, name, buf.length)
  const kind = rng.weighted({random: 40, zeros: 20, copy: 40})
  const n = rng.between(1, rng.pick([1, 4, 8, 48, 300]))
  const bytes = kind === 'random' ? rng.bytes(n) : kind === 'zeros' ? Buffer.alloc(n) : Buffer.from(buf.subarray(Math.max(0, at - n), at))
  const keepSize = rng.chance(0.5)
  let next = Buffer.concat([buf.subarray(0, at), bytes, buf.subarray(at)])
  if (keepSize) next = next.subarray(0, buf.length)
  for (const r of recordsOf(c, name)) if (r.offset >= at) r.offset += bytes.length
  // A copy of the bytes just before `at` repeats the whole records among them.
  if (kind === 'copy') {
    copyTruth(c, name, at - bytes.length, bytes.length, name, at, next.length)
    ;(c.moved ??= []).push({file: name, from: at, to: at + bytes.length})
  }
  c.files.set(name, next)
  return `insert ${name}@${at}: ${bytes.length} ${kind} bytes${keepSize ? ', size kept' : ', file grows'}`
}

function length(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const recs = recordsOf(c, name)
  const stray = recs.length === 0 || rng.chance(0.2)
  const r = stray ? undefined : rng.pick(recs)
  const at = r ? r.offset : writeEnd(c, name)
  if (at + 4 > buf.length) return `length ${name}: no room for a length at ${at}`
  const cap = buf.length
  const kind = rng.weighted({zero: 12, pastCapacity: 15, endsAtCapacity: 10, huge: 8, big: 6, plusOne: 12, minusOne: 12, small: 15, halfRest: 10})
  const old = r?.length ?? 0
  const value = {
    zero: 0,
    pastCapacity: cap - at - RECORD_HEADER_SIZE + 1,
    endsAtCapacity: cap - at - RECORD_HEADER_SIZE,
    huge: 0xffffffff,
    big: 0x7fffffff,
    plusOne: old + 1,
    minusOne: Math.max(0, old - 1),
    small: rng.between(1, 64),
    halfRest: Math.floor((cap - at) / 2),
  }[kind]
  buf.writeUInt32LE(Math.max(0, value) >>> 0, at)
  if (stray && rng.chance(0.5) && at + 8 <= cap) buf.writeUInt32LE(rng.u32(), at + 4)
  return `length ${name}@${at}: ${kind} ${old} -> ${Math.max(0, value) >>> 0}${stray ? ' (after the last record)' : ''}`
}

function header(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  if (buf.length < FIRST_RECORD_OFFSET) return `header ${name}: file too short`
  const FUTURE = 4_102_444_800_000_000n // 2100-01-01
  const kind = rng.weighted({magic: 10, version: 10, headerSize: 10, dataOffset: 10, reserved: 10, padding: 8, checksum: 5, createdFuture: 8, modifiedFuture: 8, createdAfterModified: 8, walReserved: 8, zeroTimes: 5})
  switch (kind) {
    case 'magic':
      rng.bytes(4).copy(buf, FIELD.magic.offset)
      break
    case 'version':
      buf.writeUInt32LE(rng.pick([0, 2, 0xffffffff]), FIELD.version.offset)
      break
    case 'headerSize':
      buf.writeUInt32LE(rng.pick([0, 79, 81, 89]), FIELD.headerSize.offset)
      break
    case 'dataOffset':
      buf.writeBigUInt64LE(rng.pick([0n, 79n, 81n, 1n << 63n]), FIELD.dataOffset.offset)
      break
    case 'reserved':
      buf[FIELD.reserved.offset + rng.int(FIELD.reserved.size)] = rng.between(1, 255)
      break
    case 'padding':
      rng.bytes(4).copy(buf, rng.pick([FIELD.padding1.offset, FIELD.padding2.offset]))
      break
    case 'checksum':
      buf.writeUInt32LE(rng.u32(), FIELD.checksum.offset)
      break
    case 'createdFuture':
      buf.writeBigUInt64LE(FUTURE, FIELD.createdAt.offset)
      break
    case 'modifiedFuture':
      buf.writeBigUInt64LE(FUTURE, FIELD.modifiedAt.offset)
      break
    case 'createdAfterModified':
      buf.writeBigUInt64LE((buf.readBigUInt64LE(FIELD.modifiedAt.offset) + 1_000_000n) & 0xffff_ffff_ffff_ffffn, FIELD.createdAt.offset)
      break
    case 'walReserved':
      buf[FIELD.walReserved.offset + rng.int(FIELD.walReserved.size)] = rng.between(1, 255)
      break
    default:
      zeroIn(buf, FIELD.createdAt.offset, FIELD.modifiedAt.offset + 8)
  }
  return `header ${name}: ${kind}`
}

function rename(c: FuzzCase, rng: Rng, name: string): string {
  const names = segmentNames(c)
  const maxId = parseSegmentFileName(names[names.length - 1])!
  const kind = rng.weighted({gap: 40, swap: 20, stray: 25, zero: 10, farId: 5})
  let to: string
  if (kind === 'gap') to = segmentFileName(maxId + rng.between(1, 5))
  else if (kind === 'farId') to = segmentFileName(9_999_999)
  else if (kind === 'zero') to = segmentFileName(0)
  else if (kind === 'stray') to = rng.pick(['wal_1.log', `${name}.tmp`, name.toUpperCase(), `${name}.bak`, `.${name}`, 'wal_0000001.log'])
  else {
    const other = rng.pick(names)
    if (other === name) return `rename ${name}: swap with itself, nothing done`
    const a = c.files.get(name)!
    c.files.set(name, c.files.get(other)!)
    c.files.set(other, a)
    for (const r of c.truth) r.file = r.file === name ? other : r.file === other ? name : r.file
    return `rename ${name} <-> ${other} (swap)`
  }
  if (to === name) return `rename ${name}: same name, nothing done`
  const replaced = c.files.has(to)
  c.files.set(to, c.files.get(name)!)
  c.files.delete(name)
  c.truth = c.truth.filter((r) => r.file !== to)
  for (const r of c.truth) if (r.file === name) r.file = to
  return `rename ${name} -> ${to} (${kind}${replaced ? ', replacing it' : ''})`
}

function copy(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const names = segmentNames(c)
  const maxId = parseSegmentFileName(names[names.length - 1])!
  const to = rng.chance(0.6) ? segmentFileName(maxId + rng.between(1, 2)) : rng.pick(names)
  if (to === name) return `copy ${name}: onto itself, nothing done`
  c.files.set(to, Buffer.from(buf))
  c.truth = c.truth.filter((r) => r.file !== to)
  copyTruth(c, name, 0, buf.length, to, 0, buf.length)
  return `copy ${name} -> ${to}`
}

function resize(c: FuzzCase, rng: Rng, name: string, buf: Buffer): string {
  const kind = rng.weighted({zeros: 45, data: 25, double: 15, shrink: 15})
  if (kind === 'shrink') {
    const size = Math.max(0, buf.length - rng.between(1, 64))
    c.files.set(name, buf.subarray(0, size))
    return `resize ${name}: shrink to ${size}`
  }
  const n = kind === 'double' ? buf.length : rng.between(1, rng.pick([8, 100, 4096]))
  const extra = kind === 'data' ? rng.bytes(n) : Buffer.alloc(n)
  c.files.set(name, Buffer.concat([buf, extra]))
  return `resize ${name}: +${n} ${kind === 'data' ? 'random' : 'zero'} bytes`
}

function torn(c: FuzzCase, rng: Rng): string {
  const names = segmentNames(c)
  const name = names[names.length - 1]
  const buf = c.files.get(name)!
  const recs = recordsOf(c, name)
  const last = recs.reduce<TruthRecord | undefined>((a, r) => (a && a.offset > r.offset ? a : r), undefined)
  const end = writeEnd(c, name)
  const kind = rng.weighted({payloadTail: last ? 25 : 0, lengthZeroed: last ? 15 : 0, lengthOnly: 20, cutFile: last ? 15 : 0, garbageAfter: 15, crcOnly: 10})
  if (kind === 'payloadTail') {
    const k = rng.between(1, last!.length)
    zeroIn(buf, last!.offset + RECORD_HEADER_SIZE + last!.length - k, last!.offset + RECORD_HEADER_SIZE + last!.length)
    return `torn ${name}: last record @${last!.offset} lost the last ${k} payload bytes`
  }
  if (kind === 'lengthZeroed') {
    zeroIn(buf, last!.offset, last!.offset + 4)
    return `torn ${name}: last record @${last!.offset} has its length zeroed, crc and data kept`
  }
  if (kind === 'cutFile') {
    const size = Math.min(buf.length, last!.offset + rng.between(1, RECORD_HEADER_SIZE + last!.length - 1))
    c.files.set(name, buf.subarray(0, size))
    return `torn ${name}: file cut at ${size}, inside the last record @${last!.offset}`
  }
  if (end + 8 > buf.length) return `torn ${name}: segment full, no room after the last record`
  if (kind === 'lengthOnly') {
    const len = rng.between(1, Math.max(1, buf.length - end - 8))
    buf.writeUInt32LE(len, end)
    rng.bytes(rng.int(Math.min(len, buf.length - end - 8))).copy(buf, end + 8)
    return `torn ${name}: a length ${len} and part of its data after the last record (@${end})`
  }
  if (kind === 'crcOnly') {
    buf.writeUInt32LE(rng.u32(), end + 4)
    return `torn ${name}: a crc without a length after the last record (@${end})`
  }
  const n = rng.between(1, Math.min(64, buf.length - end))
  rng.bytes(n).copy(buf, end)
  return `torn ${name}: ${n} random bytes after the last record (@${end})`
}

function pattern(c: FuzzCase, rng: Rng, name: string, buf: Buffer, whole: boolean): string {
  const recs = recordsOf(c, name)
  const from = whole ? FIRST_RECORD_OFFSET : rng.weighted({end: 30, record: recs.length > 0 ? 30 : 0, start: 20, anywhere: 20}) === 'anywhere' ? rng.int(buf.length) : rng.chance(0.5) ? writeEnd(c, name) : recs.length > 0 ? rng.pick(recs).offset : FIRST_RECORD_OFFSET
  if (from >= buf.length) return `pattern ${name}: no room at ${from}`
  const to = whole || rng.chance(0.6) ? buf.length : Math.min(buf.length, from + rng.between(16, 4096))
  const kind = rng.weighted({repeat: 30, halfLength: 15, justPast: 15, wrongCrc: 20, validRun: 20})
  const n = to - from
  let bytes: Buffer
  let what: string
  if (kind === 'repeat') {
    const p = rng.pick(ADVERSARIAL_PATTERNS)
    bytes = repeatPattern(p, n)
    what = `repeated ${p.toString('hex')}`
  } else if (kind === 'halfLength') {
    // Every aligned position claims a length reaching half-way: each candidate's CRC covers a long range.
    const u = Buffer.alloc(4)
    u.writeUInt32LE(Math.max(1, Math.floor((buf.length - from) / 2)))
    bytes = repeatPattern(u, n)
    what = `length ${u.readUInt32LE(0)} repeated`
  } else if (kind === 'justPast') {
    bytes = Buffer.alloc(n)
    for (let q = 0; q + 4 <= n; q += 4) bytes.writeUInt32LE((buf.length - (from + q) - RECORD_HEADER_SIZE + 1) >>> 0, q)
    what = 'lengths ending one byte past the capacity'
  } else {
    const k = rng.between(1, 64)
    const data = rng.bytes(k)
    const rec = recordBytes(data)
    if (kind === 'wrongCrc') rec.writeUInt32LE((rec.readUInt32LE(4) ^ (1 << rng.int(32))) >>> 0, 4)
    bytes = repeatPattern(rec, n)
    what = kind === 'wrongCrc' ? `valid-looking ${k}-byte records with wrong CRCs` : `valid ${k}-byte records`
    if (kind === 'validRun') {
      // Written whole by this mutation: records at these positions are legitimate.
      const crc = crc32(data)
      for (let q = from; q + rec.length <= to; q += rec.length) c.truth.push({file: name, offset: q, length: k, crc})
    }
  }
  bytes.copy(buf, from)
  return `pattern ${name}[${from}, ${to}): ${what}`
}

function remove(c: FuzzCase, _rng: Rng, name: string): string {
  c.files.delete(name)
  c.truth = c.truth.filter((r) => r.file !== name)
  return `delete ${name}`
}

type Mutator = (c: FuzzCase, rng: Rng, name: string, buf: Buffer) => string
const MUTATORS: Record<Exclude<MutationKind, 'pattern'>, Mutator> = {flip, truncate, zero, dup, insert, length, header, delete: remove, rename, copy, resize, torn}

/** Applies one mutation (of `force` kind, or a random one) to the case. */
export function mutate(c: FuzzCase, rng: Rng, force?: MutationKind): void {
  const names = segmentNames(c)
  if (names.length === 0) {
    c.mutations.push('none: no segment left')
    c.kinds.push('none')
    return
  }
  const kind = force ?? rng.weighted(MUTATION_WEIGHTS)
  const name = rng.pick(names)
  const buf = c.files.get(name)!
  // A forced pattern covers the whole data area (the large adversarial segments).
  c.mutations.push(kind === 'pattern' ? pattern(c, rng, name, buf, force === 'pattern') : MUTATORS[kind](c, rng, name, buf))
  c.kinds.push(kind)
}
