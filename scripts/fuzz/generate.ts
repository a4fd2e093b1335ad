// Builds one fuzz case from (seed, index): a WAL of several segments written in
// memory by the format's rules (records back to back from offset 89, rotation
// when a record does not fit, zeros after), then mutated. The ground truth is
// every record written at each position: by the builder, or by a mutation that
// copies, moves or deliberately writes whole records.
import {crc32} from 'node:zlib'
import {encodeHeader, encodeRecordHeader, FIRST_RECORD_OFFSET, maxPayloadSize, RECORD_HEADER_SIZE} from '../../src/core/format/format.js'
import {segmentFileName} from '../../src/core/format/names.js'
import {CREATED_US} from '../../test/helpers/corrupt.js'
import {mutate} from './mutate.js'
import {caseSeed, Rng} from './prng.js'

export interface TruthRecord {
  file: string
  offset: number
  length: number
  crc: number
}

export interface FuzzCase {
  id: string
  seed: number
  index: number
  segmentSize: number
  /** File name (in the WAL directory) to its bytes, as left by the mutations. */
  files: Map<string, Buffer>
  /** Records legitimately at each position: none may be reported as a plain valid record elsewhere. */
  truth: TruthRecord[]
  appended: number
  /** One line per mutation, in the order applied. */
  mutations: string[]
  /** Byte ranges `[from, to)` that a mutation filled with a copy of other bytes of the WAL: a record-shaped fragment there was moved, not invented. */
  moved?: Array<{file: string; from: number; to: number}>
  /** The mutation kinds (the first word of each line). */
  kinds: string[]
}

export function truthKey(file: string, offset: number, length: number, crc: number): string {
  return `${file}@${offset}#${length}:${crc >>> 0}`
}

export function recordBytes(payload: Buffer): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_SIZE + payload.length)
  encodeRecordHeader(b, 0, payload.length, crc32(payload))
  payload.copy(b, RECORD_HEADER_SIZE)
  return b
}

const SEGMENT_SIZES = {'512': 30, '1024': 10, '4096': 30, '16384': 12, '65536': 15, '1048576': 2} as const
const MAX_SEGMENTS: Record<number, number> = {512: 6, 1024: 5, 4096: 4, 16384: 3, 65536: 2, 1048576: 1}

function payloadLength(rng: Rng, max: number, big: boolean): number {
  const kind = rng.weighted({one: 8, tiny: big ? 5 : 20, small: 30, medium: 20, large: big ? 25 : 10, nearMax: 7, max: 5})
  switch (kind) {
    case 'one':
      return 1
    case 'tiny':
      return rng.between(1, 16)
    case 'small':
      return rng.between(1, Math.min(128, max))
    case 'medium':
      return rng.between(1, Math.min(1024, max))
    case 'large':
      return rng.between(1, max)
    case 'nearMax':
      return Math.max(1, max - rng.between(0, 16))
    default:
      return max
  }
}

/** Bytes that look like records: valid ones (a payload holding a record), or with wrong CRCs. */
function nested(rng: Rng, length: number, depth: number): Buffer {
  const out = rng.bytes(length)
  let at = rng.chance(0.5) ? 0 : rng.between(0, Math.min(16, length))
  while (at + RECORD_HEADER_SIZE + 1 <= length) {
    const room = length - at - RECORD_HEADER_SIZE
    const inner = rng.chance(0.3) ? room : rng.between(1, room)
    const data = depth < 2 && inner > 12 && rng.chance(0.4) ? nested(rng, inner, depth + 1) : rng.bytes(inner)
    const rec = recordBytes(data)
    if (rng.chance(0.15)) rec.writeUInt32LE((rec.readUInt32LE(4) ^ 1) >>> 0, 4)
    rec.copy(out, at)
    at += rec.length
    if (rng.chance(0.5)) at += rng.between(0, 8)
  }
  return out
}

export function repeatPattern(pattern: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i += pattern.length) pattern.copy(out, i, 0, Math.min(pattern.length, length - i))
  return out
}

export const ADVERSARIAL_PATTERNS = [Buffer.from([0, 0, 8, 0]), Buffer.from([0, 0, 0x20, 0]), Buffer.from([3]), Buffer.from([0, 8, 0, 0])]

function payload(rng: Rng, length: number, i: number): Buffer {
  const kind = rng.weighted({random: 35, text: 20, nested: 20, pattern: 10, zeros: 5, headerLike: 10})
  switch (kind) {
    case 'text':
      return Buffer.from(`record-${i}:`.padEnd(length, String.fromCharCode(97 + (i % 26))).slice(0, length), 'latin1')
    case 'nested':
      return nested(rng, length, 0)
    case 'pattern':
      return repeatPattern(rng.pick(ADVERSARIAL_PATTERNS), length)
    case 'zeros': {
      const b = Buffer.alloc(length)
      if (rng.chance(0.5)) b[rng.int(length)] = 1 + rng.int(255)
      return b
    }
    case 'headerLike': {
      const b = rng.bytes(length)
      for (let at = 0; at + 8 <= length; at += rng.between(8, 64)) {
        b.writeUInt32LE(rng.between(1, Math.max(1, length - at)), at)
      }
      return b
    }
    default:
      return rng.bytes(length)
  }
}

function newSegment(size: number): Buffer {
  const b = Buffer.alloc(size)
  encodeHeader(CREATED_US).copy(b, 0)
  return b
}

export function buildCase(seed: number, index: number): FuzzCase {
  const rng = new Rng(caseSeed(seed, index))
  const segmentSize = Number(rng.weighted(SEGMENT_SIZES))
  const big = segmentSize >= 65536
  const maxP = maxPayloadSize(segmentSize)
  const segmentCount = rng.between(1, MAX_SEGMENTS[segmentSize])
  // How far the newest segment is filled: empty (header only), part, or exactly full.
  const lastFill = rng.weighted({empty: 8, part: 72, full: 20})
  const stopAt = lastFill === 'empty' ? FIRST_RECORD_OFFSET : lastFill === 'full' ? segmentSize : FIRST_RECORD_OFFSET + rng.int(segmentSize - FIRST_RECORD_OFFSET)
  const segments: Buffer[] = [newSegment(segmentSize)]
  const truth: TruthRecord[] = []
  let off = FIRST_RECORD_OFFSET
  let appended = 0
  const write = (p: Buffer): void => {
    const rec = recordBytes(p)
    rec.copy(segments[segments.length - 1], off)
    truth.push({file: segmentFileName(segments.length), offset: off, length: p.length, crc: crc32(p)})
    off += rec.length
    appended++
  }
  const limit = big ? 400 : 2000
  for (let i = 0; appended < limit; i++) {
    const last = segments.length === segmentCount
    if (last && off >= stopAt) break
    const len = payloadLength(rng, maxP, big)
    if (off + RECORD_HEADER_SIZE + len > segmentSize) {
      const room = segmentSize - off - RECORD_HEADER_SIZE
      // Fill a segment exactly now and then: "full" means the write pointer is the capacity.
      if (room >= 1 && (lastFill === 'full' || rng.chance(0.2))) write(payload(rng, room, i))
      if (last) break
      segments.push(newSegment(segmentSize))
      off = FIRST_RECORD_OFFSET
      continue
    }
    write(payload(rng, len, i))
  }
  const files = new Map<string, Buffer>()
  segments.forEach((b, i) => files.set(segmentFileName(i + 1), b))
  const c: FuzzCase = {id: `${seed}:${index}`, seed, index, segmentSize, files, truth, appended, mutations: [], kinds: []}
  // The large segments are there for the adversarial patterns: one covers the whole data area.
  if (segmentSize >= 1048576) mutate(c, rng, 'pattern')
  const count = rng.weighted({0: 5, 1: 45, 2: 30, 3: 12, 4: 8})
  for (let m = 0; m < Number(count); m++) mutate(c, rng)
  return c
}
