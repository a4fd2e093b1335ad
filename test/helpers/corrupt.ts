// Building small WALs for corruption tests, naming byte edits on them, and an
// independent reader that applies Shardex's own open checks (its code, not
// walctl's: the `crc` package as the CRC oracle, its own record walk).
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32 as crcOracle} from 'crc'
import {WalManager} from '../../src/core/write/manager.js'
import {segmentFileName} from '../../src/core/format/names.js'
import {recoverWal} from '../../src/core/repair/recover.js'
import {verifyWal} from '../../src/core/read/verify.js'
import {PREPARE_MIN_SIZE} from '../../src/core/write/segment-pipeline.js'
import {FIRST_RECORD_OFFSET} from '../../src/core/format/format.js'
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
  /** Each record's `SEGMENT:OFFSET`. */
  positions: string[]
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
  const positions: string[] = []
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
      positions.push(`${id}:${off}`)
      off += 8 + length
    }
    const tail = buf.subarray(Math.min(off, buf.length)).findIndex((b) => b !== 0)
    if (tail >= 0) errors.push(`${name}: non-zero byte at ${off + tail} after the last record`)
  }
  if (sizes.size > 1) errors.push(`segments of different sizes: ${[...sizes].join(', ')}`)
  return {errors, records, positions}
}

/** A small seeded PRNG (mulberry32): a failing trial is replayed from its seed. */
export function rng32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const PAGE = 4096

/**
 * The bytes a power cut could leave on disk: the image at the last sync, plus
 * any subset of the pages changed since, one of them possibly torn (only a
 * prefix of its new bytes reached the disk) unless `mayTear` is false: a cut
 * over several files tears at most one page in all of them. `reached` is the
 * chance of each page to have been written back.
 */
export function powerCutImage(synced: Buffer, current: Buffer, rand: () => number, mayTear = true, reached = 0.5): {image: Buffer; dirty: number; applied: number; torn: boolean} {
  const image = Buffer.from(synced)
  const dirty: number[] = []
  for (let p = 0; p * PAGE < current.length; p++) {
    const a = p * PAGE
    const b = Math.min(current.length, a + PAGE)
    if (!current.subarray(a, b).equals(synced.subarray(a, b))) dirty.push(p)
  }
  let applied = 0
  for (const p of dirty) {
    if (rand() < reached) {
      current.copy(image, p * PAGE, p * PAGE, Math.min(current.length, (p + 1) * PAGE))
      applied++
    }
  }
  let torn = false
  if (mayTear && dirty.length > 0 && rand() < 0.5) {
    const p = dirty[Math.floor(rand() * dirty.length)]
    const a = p * PAGE
    const b = Math.min(current.length, a + PAGE)
    synced.copy(image, a, a, b)
    current.copy(image, a, a, a + Math.floor(rand() * (b - a)))
    torn = true
  }
  return {image, dirty: dirty.length, applied, torn}
}

export interface PowerLossOutcome {
  seed: number
  appended: number
  synced: number
  survived: number
  verdict: string
  mode: string
  /** Records acknowledged as synced that are missing, altered or out of place. */
  lostSynced: number
  /** Records found that are not, in order, among those appended. */
  neverAppended: number
  /** verify after recover was not clean, or Shardex's checks failed. */
  notClean: number
  torn: boolean
}

/**
 * One power-loss trial through the core: appends and syncs on a live segment,
 * a power-cut image taken at a random moment, recovered, then checked.
 */
export function powerLossTrial(seed: number, segmentSize = 8 * PAGE): PowerLossOutcome {
  const rand = rng32(seed)
  const root = tempDir('walctl-power-')
  const manager = WalManager.init(path.join(root, 'live'), {segmentSize, createdAtUs: CREATED_US})
  const seg = manager.current()
  let syncedImage = Buffer.from(seg.bytes())
  const appended: Buffer[] = []
  let synced = 0
  const steps = 1 + Math.floor(rand() * 80)
  for (let i = 0; i < steps; i++) {
    const length = 1 + Math.floor(rand() * (rand() < 0.15 ? 5000 : 300))
    if (!seg.fits(length)) break
    const payload = Buffer.allocUnsafe(length)
    for (let j = 0; j < length; j++) payload[j] = Math.floor(rand() * 256)
    if (length >= 4) payload.writeUInt32LE(i, 0) // keeps payloads distinct
    manager.append(payload)
    appended.push(payload)
    if (rand() < 0.12) {
      manager.sync()
      syncedImage = Buffer.from(seg.bytes())
      synced = appended.length
    }
  }
  const cut = powerCutImage(syncedImage, Buffer.from(seg.bytes()), rand)
  manager.close()
  const dir = path.join(root, 'after-power-cut')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, segmentFileName(1)), cut.image)
  const checked = recoverAndCheck(dir, seed, appended, synced)
  fs.rmSync(root, {recursive: true, force: true})
  return {seed, appended: appended.length, synced, survived: checked.survived, verdict: checked.verdict, mode: checked.mode, lostSynced: checked.lostSynced, neverAppended: checked.neverAppended, notClean: checked.notClean, torn: cut.torn}
}

/**
 * What an operator would do after the cut (verify; recover with tolerate-tail,
 * or when damaged salvage or point-in-time, by the seed's parity so that both
 * are exercised), then the checks: the first `synced` records of `appended`
 * found intact and in order, every record found one appended, in order, and
 * the WAL clean after recover (walctl's verify and the Shardex-style reader).
 */
function recoverAndCheck(dir: string, seed: number, appended: Buffer[], synced: number) {
  const before = verifyWal(dir, {settleTries: 0})
  const mode = before.verdict === 'damaged' ? (seed % 2 === 0 ? 'salvage' : 'point-in-time') : 'tolerate-tail'
  const result = recoverWal(dir, {mode})
  const open = shardexOpen(dir)
  const after = verifyWal(dir, {settleTries: 0})
  const found = open.records
  const problems: string[] = []
  let lostSynced = 0
  for (let i = 0; i < synced; i++) {
    if (found[i] && found[i].equals(appended[i])) continue
    if (lostSynced++ === 0) problems.push(`synced record ${i} (${appended[i].length} bytes) ${found[i] ? `differs from the record found at ${open.positions[i]}` : 'is missing'}`)
  }
  let neverAppended = 0
  let j = 0
  for (const [k, r] of found.entries()) {
    while (j < appended.length && !appended[j].equals(r)) j++
    if (j === appended.length) {
      if (neverAppended++ === 0) problems.push(`record at ${open.positions[k]} (${r.length} bytes) was never appended, or not in this order`)
    } else j++
  }
  const notClean = result.exitCode !== 0 || after.verdict !== 'clean' || open.errors.length > 0 ? 1 : 0
  if (notClean) problems.push(`after recover (${mode}, exit ${result.exitCode}): verify ${after.verdict}; Shardex reader: ${open.errors.slice(0, 3).join('; ') || 'no error'}`)
  return {verdict: before.verdict, mode, survived: found.length, lostSynced, neverAppended, notClean, problems}
}

export interface PowerLossTotals {
  trials: number
  appended: number
  synced: number
  survived: number
  lostSynced: number
  neverAppended: number
  notClean: number
  torn: number
  verdicts: Record<string, number>
  modes: Record<string, number>
  failures: PowerLossOutcome[]
}

function addOutcome(totals: PowerLossTotals, o: PowerLossOutcome): void {
  totals.trials++
  totals.appended += o.appended
  totals.synced += o.synced
  totals.survived += o.survived
  totals.lostSynced += o.lostSynced
  totals.neverAppended += o.neverAppended
  totals.notClean += o.notClean
  if (o.torn) totals.torn++
  totals.verdicts[o.verdict] = (totals.verdicts[o.verdict] ?? 0) + 1
  totals.modes[o.mode] = (totals.modes[o.mode] ?? 0) + 1
  if (o.lostSynced + o.neverAppended + o.notClean > 0) totals.failures.push(o)
}

function emptyTotals(): PowerLossTotals {
  return {trials: 0, appended: 0, synced: 0, survived: 0, lostSynced: 0, neverAppended: 0, notClean: 0, torn: 0, verdicts: {}, modes: {}, failures: []}
}

export function powerLossTrials(count: number, firstSeed = 1): PowerLossTotals {
  const totals = emptyTotals()
  for (let i = 0; i < count; i++) addOutcome(totals, powerLossTrial(firstSeed + i))
  return totals
}

/**
 * Bytes for payloads, made once from a fixed seed: a trial takes a payload as
 * a slice of it at a seeded offset (drawing every byte of megabytes per trial
 * would cost more than the rest of the trial).
 */
let payloadPool: Buffer | undefined
const POOL_SIZE = 512 * 1024

/** `length` seeded bytes, the record's index first when it fits, so that no two payloads are equal. */
function seededPayload(length: number, index: number, rand: () => number): Buffer {
  if (!payloadPool) {
    const fill = rng32(0x5eed)
    payloadPool = Buffer.allocUnsafe(POOL_SIZE)
    for (let j = 0; j < POOL_SIZE; j += 4) payloadPool.writeUInt32LE(Math.floor(fill() * 4294967296), j)
  }
  const from = Math.floor(rand() * (POOL_SIZE - length))
  const payload = Buffer.from(payloadPool.subarray(from, from + length))
  if (length >= 4) payload.writeUInt32LE(index, 0)
  return payload
}

export interface MultiPowerLossOutcome extends PowerLossOutcome {
  /** Segments rotated to: the WAL holds rotations + 1 segments at the cut. */
  rotations: number
  syncs: number
  /**
   * Segments rotated out since the last sync: their seal (the pipeline's
   * background fdatasync) was never waited for by a sync, so any subset of
   * their pages may be lost.
   */
  unackedSeals: number
  /** Segments created since the last sync, as the cut left them: name lost, header only, or some records' pages. */
  absent: number
  headerOnly: number
  partial: number
  /** What went wrong, for a failing seed. */
  problems: string[]
}

/**
 * One power-loss trial over several segments: 1 MiB segments (so rotations go
 * through the segment pipeline and rotated-out segments are sealed in the
 * background), records of up to 200 KiB, syncs at random points. At the cut
 * every segment file is its image at the last sync plus any subset of the
 * pages written since, and one page in all of them possibly torn.
 */
export function multiSegmentPowerLossTrial(seed: number): MultiPowerLossOutcome {
  const rand = rng32(seed)
  const root = tempDir('walctl-power-multi-')
  const live = path.join(root, 'live')
  const manager = WalManager.init(live, {segmentSize: PREPARE_MIN_SIZE, createdAtUs: CREATED_US})
  const readSegment = (id: number): Buffer => fs.readFileSync(path.join(live, segmentFileName(id)))
  const syncedImages = new Map<number, Buffer>([[1, readSegment(1)]])
  // The current segment at the last sync: every earlier one was sealed, and that seal waited for, then.
  let syncedCurrent = 1
  const appended: Buffer[] = []
  let synced = 0
  let syncs = 0
  // Trials differ in shape, not just in detail: some fill segments with large records, some
  // sync often, some never or only once in several rotations.
  const steps = 10 + Math.floor(rand() * 150)
  const largeShare = rand() < 0.15 ? 0.05 : 0.35
  const syncRate = [0, 0.01, 0.03, 0.1][Math.floor(rand() * 4)]
  for (let i = 0; i < steps; i++) {
    const length = rand() < largeShare ? 16 * 1024 + Math.floor(rand() * 184 * 1024) : 1 + Math.floor(rand() * 2000)
    const payload = seededPayload(length, i, rand)
    manager.append(payload)
    appended.push(payload)
    if (rand() < syncRate) {
      manager.sync()
      syncs++
      const current = manager.current()
      // Segments rotated out since the previous sync have no mapping left; the current one is copied from its own.
      for (let id = syncedCurrent; id < current.id; id++) syncedImages.set(id, readSegment(id))
      syncedImages.set(current.id, Buffer.from(current.bytes()))
      syncedCurrent = current.id
      synced = appended.length
    }
  }
  const last = manager.current().id
  // Each rotation fsyncs the directory once the new name is in place, which makes every earlier
  // name durable too: the names surviving the cut are those up to some segment made since the sync.
  const named = rand() < 0.5 ? last : syncedCurrent + Math.floor(rand() * (last - syncedCurrent + 1))
  const tearIn = syncedCurrent + Math.floor(rand() * (last - syncedCurrent + 1))
  // Half the pages reached the disk, or most, or all: holes everywhere would leave few cuts clean or repairable.
  const reached = [0.5, 0.9, 1][Math.floor(rand() * 3)]
  const images: Buffer[] = []
  let torn = false
  let headerOnly = 0
  let partial = 0
  for (let id = 1; id <= named; id++) {
    const current = readSegment(id)
    // A segment made since the sync: installPrepared synced its header page before naming it.
    let base = syncedImages.get(id)
    if (!base) {
      base = Buffer.alloc(current.length)
      current.copy(base, 0, 0, FIRST_RECORD_OFFSET)
    }
    // Its first page holds records, so the header alone is a case of its own, not a rare empty subset.
    if (!syncedImages.has(id) && rand() < 0.25) {
      headerOnly++
      images.push(base)
      continue
    }
    const cut = powerCutImage(base, current, rand, id === tearIn, reached)
    torn ||= cut.torn
    if (!syncedImages.has(id)) {
      if (cut.applied === 0 && !cut.torn) headerOnly++
      else partial++
    }
    images.push(cut.image)
  }
  manager.close()
  const dir = path.join(root, 'after-power-cut')
  fs.mkdirSync(dir)
  images.forEach((image, k) => fs.writeFileSync(path.join(dir, segmentFileName(k + 1)), image))
  const checked = recoverAndCheck(dir, seed, appended, synced)
  fs.rmSync(root, {recursive: true, force: true})
  return {
    seed, appended: appended.length, synced, survived: checked.survived, verdict: checked.verdict, mode: checked.mode,
    lostSynced: checked.lostSynced, neverAppended: checked.neverAppended, notClean: checked.notClean, torn,
    rotations: last - 1, syncs, unackedSeals: last - syncedCurrent, absent: last - named, headerOnly, partial, problems: checked.problems,
  }
}

export interface MultiPowerLossTotals extends PowerLossTotals {
  /** Trials by their number of rotations. */
  rotations: Record<number, number>
  syncs: number
  /** Trials whose cut found at least one seal not acknowledged by a sync, and those seals in all. */
  withUnackedSeals: number
  unackedSeals: number
  absent: number
  headerOnly: number
  partial: number
  failures: MultiPowerLossOutcome[]
}

export function multiSegmentPowerLossTrials(count: number, firstSeed = 1): MultiPowerLossTotals {
  const totals: MultiPowerLossTotals = {...emptyTotals(), rotations: {}, syncs: 0, withUnackedSeals: 0, unackedSeals: 0, absent: 0, headerOnly: 0, partial: 0, failures: []}
  for (let i = 0; i < count; i++) {
    const o = multiSegmentPowerLossTrial(firstSeed + i)
    addOutcome(totals, o)
    totals.rotations[o.rotations] = (totals.rotations[o.rotations] ?? 0) + 1
    totals.syncs += o.syncs
    if (o.unackedSeals > 0) totals.withUnackedSeals++
    totals.unackedSeals += o.unackedSeals
    totals.absent += o.absent
    totals.headerOnly += o.headerOnly
    totals.partial += o.partial
  }
  return totals
}
