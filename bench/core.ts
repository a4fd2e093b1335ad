// Core figures: append (no sync), scan and verify of 64 MiB segments, each
// beside a baseline loop run alternately in the same process.
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32 as zlibCrc32} from 'node:zlib'
import {crc32, crc32Js} from '../src/core/format/crc.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../src/core/format/format.js'
import {WalManager} from '../src/core/write/manager.js'
import {scanRecords} from '../src/core/format/records.js'
import {scanWal} from '../src/core/read/scan.js'
import {WalSegment} from '../src/core/write/segment.js'
import {verifyWal} from '../src/core/read/verify.js'
import {cpu as now, Figure, MiB, paired, tempDir} from './lib.js'
import {mmap} from '../src/core/write/mmap.js'
import {ADVERSARIAL} from '../test/helpers/adversarial.js'

export const SEGMENT = 64 * MiB
const gc = (globalThis as {gc?: () => void}).gc ?? (() => {})

function payloads(size: number, count = 64): Buffer[] {
  return Array.from({length: count}, () => randomBytes(size))
}

/** Records of `size` bytes that fill one segment. */
function recordsPerSegment(size: number): number {
  return Math.floor((SEGMENT - FIRST_RECORD_OFFSET) / (RECORD_HEADER_SIZE + size))
}

/** The baseline: the same bytes copied into a plain Buffer with zlib.crc32, no format code. */
let stage: Buffer | undefined
function stagingBuffer(): Buffer {
  stage ??= Buffer.alloc(2 * MiB)
  return stage
}

let warm: Buffer | undefined
function baselineAppend(pool: Buffer[], count: number): number {
  // One plain Buffer, touched once: the loop's cost without page faults.
  if (!warm) warm = Buffer.alloc(SEGMENT)
  const dst = warm
  const t0 = now()
  let at = FIRST_RECORD_OFFSET
  for (let i = 0; i < count; i++) {
    const rec = pool[i & 63]
    dst.writeUInt32LE(rec.length, at)
    dst.writeUInt32LE(zlibCrc32(rec), at + 4)
    dst.set(rec, at + 8)
    at += 8 + rec.length
  }
  return now() - t0
}

export interface CoreContext {
  dir: string
  /** A filled segment per record size, kept for the scan figures. */
  filled: Map<number, string>
}

export function coreBenches(sizes: number[], repeats: number, figures: Figure[]): CoreContext {
  const dir = tempDir('core')
  const template = path.join(dir, 'empty.template')
  {
    // One fresh segment made by the real create path, copied for each run (copying skips a 64 MiB fsync per run).
    const seg = WalSegment.create(dir, 1, SEGMENT)
    seg.close()
    fs.renameSync(path.join(dir, 'wal_000001.log'), template)
  }
  const filled = new Map<number, string>()
  let runId = 0
  for (const size of sizes) {
    const pool = payloads(size)
    const count = recordsPerSegment(size)
    let keep: string | undefined
    const subject = (prefault: boolean): number => {
      const sub = path.join(dir, `run${++runId}`)
      fs.mkdirSync(sub)
      const file = path.join(sub, 'wal_000001.log')
      fs.copyFileSync(template, file)
      const seg = WalSegment.open(file)
      // Writing zeros over zeros takes every page's first-write fault outside the timed loop.
      if (prefault) seg.bytes().fill(0, FIRST_RECORD_OFFSET)
      const t0 = now()
      for (let i = 0; i < count; i++) seg.append(pool[i & 63])
      const ms = now() - t0
      seg.close()
      if (keep) fs.rmSync(path.dirname(keep), {recursive: true})
      keep = file
      gc()
      return ms
    }
    const pre = paired(repeats, () => subject(true), () => baselineAppend(pool, count))
    const r = paired(repeats, () => subject(false), () => baselineAppend(pool, count))
    const mb = (count * size) / 1e6
    figures.push({group: 'core append', name: `${size} B records, records/s`, value: count / (r.subject / 1000), unit: 'rec/s', baselineName: 'copy + zlib.crc32', baseline: count / (r.baseline / 1000), ratio: r.baseline / r.subject,
      target: size === 100 ? '>= 5 M rec/s' : undefined, met: size === 100 ? count / (r.subject / 1000) >= 5e6 : undefined,
      extra: {records: count, payloadMB: mb, subjectMs: r.subject, baselineMs: r.baseline}})
    figures.push({group: 'core append', name: `${size} B records, pre-faulted map, rec/s`, value: count / (pre.subject / 1000), unit: 'rec/s', baselineName: 'copy + zlib.crc32', baseline: count / (pre.baseline / 1000), ratio: pre.baseline / pre.subject,
      extra: {subjectMs: pre.subject, baselineMs: pre.baseline}})
    figures.push({group: 'core append', name: `${size} B records, MB/s`, value: mb / (r.subject / 1000), unit: 'MB/s', baselineName: 'copy + zlib.crc32', baseline: mb / (r.baseline / 1000), ratio: r.baseline / r.subject})
    filled.set(size, keep!)
    // Not the product: the write model PERFORMANCE.md weighs against faults, records staged in a warm
    // 1 MiB buffer and pwritten to the segment file, measured on the same kind of fresh file.
    const staged = paired(repeats, () => {
      const file = path.join(dir, `staged${++runId}.log`)
      fs.copyFileSync(template, file)
      const fd = fs.openSync(file, 'r+')
      const stage = stagingBuffer()
      const t0 = now()
      let at = 0
      let filePos = FIRST_RECORD_OFFSET
      for (let i = 0; i < count; i++) {
        const rec = pool[i & 63]
        const need = RECORD_HEADER_SIZE + rec.length
        if (at + need > stage.length) {
          fs.writeSync(fd, stage, 0, at, filePos)
          filePos += at
          at = 0
        }
        stage.writeUInt32LE(rec.length, at)
        stage.writeUInt32LE(crc32(rec), at + 4)
        stage.set(rec, at + RECORD_HEADER_SIZE)
        at += need
      }
      fs.writeSync(fd, stage, 0, at, filePos)
      const ms = now() - t0
      fs.closeSync(fd)
      fs.rmSync(file)
      return ms
    }, () => baselineAppend(pool, count))
    figures.push({group: 'core append', name: `${size} B records, prototype: staged + pwrite, rec/s`, value: count / (staged.subject / 1000), unit: 'rec/s', baselineName: 'copy + zlib.crc32', baseline: count / (staged.baseline / 1000), ratio: staged.baseline / staged.subject})
  }
  // The manager path (what `append` uses): positions returned, rotation checked.
  {
    const size = 100
    const pool = payloads(size)
    const count = recordsPerSegment(size)
    const subject = (): number => {
      const sub = path.join(dir, `mgr${++runId}`)
      fs.mkdirSync(sub)
      fs.copyFileSync(template, path.join(sub, 'wal_000001.log'))
      const m = WalManager.open(sub)
      m.current()
      const t0 = now()
      for (let i = 0; i < count; i++) m.append(pool[i & 63])
      const ms = now() - t0
      m.close()
      fs.rmSync(sub, {recursive: true})
      gc()
      return ms
    }
    const r = paired(repeats, subject, () => baselineAppend(pool, count))
    figures.push({group: 'core append', name: `WalManager.append 100 B, records/s`, value: count / (r.subject / 1000), unit: 'rec/s', baselineName: 'copy + zlib.crc32', baseline: count / (r.baseline / 1000), ratio: r.baseline / r.subject})
  }
  return {dir, filled}
}

export function scanBenches(ctx: CoreContext, repeats: number, figures: Figure[]): void {
  for (const [size, file] of ctx.filled) {
    const seg = WalSegment.open(file, {readOnly: true})
    const bytes = seg.bytes()
    const end = seg.writePointer
    const count = seg.writePointer === FIRST_RECORD_OFFSET ? 0 : recordsPerSegment(size)
    const gb = (end - FIRST_RECORD_OFFSET) / 1e9
    const baseline = (): number => {
      const t0 = now()
      zlibCrc32(bytes.subarray(FIRST_RECORD_OFFSET, end))
      return now() - t0
    }
    const scan = (): number => {
      const t0 = now()
      const r = scanRecords(bytes)
      const ms = now() - t0
      if (r.records !== count) throw new Error(`scan found ${r.records} records, expected ${count}`)
      return ms
    }
    let r = paired(repeats, scan, baseline)
    const target = size === 100 ? '>= 8 M rec/s' : size === 65_536 ? '>= 0.8x zlib.crc32 GB/s' : undefined
    const recS = count / (r.subject / 1000)
    figures.push({group: 'core scan', name: `scanRecords ${size} B records (in memory)`, value: recS, unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: count / (r.baseline / 1000), ratio: r.baseline / r.subject,
      target, met: size === 100 ? recS >= 8e6 : size === 65_536 ? r.baseline / r.subject >= 0.8 : undefined,
      extra: {GBps: gb / (r.subject / 1000), baselineGBps: gb / (r.baseline / 1000)}})
    figures.push({group: 'core scan', name: `scanRecords ${size} B records, GB/s`, value: gb / (r.subject / 1000), unit: 'GB/s', baselineName: 'zlib.crc32 one call', baseline: gb / (r.baseline / 1000), ratio: r.baseline / r.subject})
    // Opening the segment: map it and recover the write pointer, as Shardex's open does.
    r = paired(repeats, () => {
      const t0 = now()
      const s = WalSegment.open(file, {readOnly: true})
      const ms = now() - t0
      if (s.writePointer !== end) throw new Error('open found another write pointer')
      s.close()
      return ms
    }, baseline)
    figures.push({group: 'core scan', name: `WalSegment.open ${size} B records`, value: count / (r.subject / 1000), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: count / (r.baseline / 1000), ratio: r.baseline / r.subject, extra: {GBps: gb / (r.subject / 1000)}})
    // verify: pread into a reused buffer, header checks, the verdict.
    r = paired(repeats, () => {
      const t0 = now()
      const v = verifyWal(path.dirname(file))
      const ms = now() - t0
      if (v.verdict !== 'clean' || v.records !== count) throw new Error(`verify: ${v.verdict}, ${v.records} records`)
      return ms
    }, baseline)
    figures.push({group: 'core verify', name: `verifyWal ${size} B records`, value: count / (r.subject / 1000), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: count / (r.baseline / 1000), ratio: r.baseline / r.subject, extra: {GBps: gb / (r.subject / 1000), baselineGBps: gb / (r.baseline / 1000)}})
    seg.close()
    void scanWal
  }
  resyncBenches(repeats, figures)
}

/**
 * Worst cases for the decoder beside a clean segment of the same size (100 B
 * records) as the baseline: the ratio says how many times a clean scan each
 * costs. Resync time is linear, so the ratio holds for any size.
 */
export function resyncBenches(repeats: number, figures: Figure[], size = 16 * MiB): void {
  const clean = Buffer.alloc(size)
  let at = FIRST_RECORD_OFFSET
  const payload = randomBytes(100)
  const rec = Buffer.alloc(RECORD_HEADER_SIZE + payload.length)
  rec.writeUInt32LE(payload.length, 0)
  rec.writeUInt32LE(crc32(payload), 4)
  payload.copy(rec, RECORD_HEADER_SIZE)
  for (; at + rec.length <= size; at += rec.length) rec.copy(clean, at)
  const baseline = (): number => {
    const t0 = now()
    scanRecords(clean)
    return now() - t0
  }
  for (const [name, fill] of Object.entries(ADVERSARIAL)) {
    const seg = Buffer.alloc(size)
    fill(seg.subarray(FIRST_RECORD_OFFSET))
    const r = paired(repeats, () => {
      const t0 = now()
      const scan = scanRecords(seg)
      const ms = now() - t0
      if (scan.records !== 0) throw new Error(`${name}: ${scan.records} records invented`)
      return ms
    }, baseline)
    figures.push({group: 'core resync', name: `${size / MiB} MiB of ${name}, ms`, value: r.subject, unit: 'ms', baselineName: 'clean segment, 100 B records', baseline: r.baseline, ratio: r.baseline / r.subject,
      extra: {MBps: size / 1e6 / (r.subject / 1000)}})
  }
}

/** Where the JavaScript CRC stops beating zlib's per call: ns per call at each length. */
export function crcSwitchBench(figures: Figure[]): void {
  const buf = randomBytes(1 << 20)
  for (const n of [16, 64, 100, 128, 192, 256, 384, 512, 1024, 4096]) {
    const iters = Math.max(5000, Math.floor(20e6 / n))
    const measure = (f: (o: number) => number): number => {
      let acc = 0
      const t0 = now()
      for (let i = 0; i < iters; i++) acc ^= f((i * 64) & 0x7ffff)
      const ms = now() - t0
      if (acc === 0.5) throw new Error('unreachable')
      return (ms * 1e6) / iters
    }
    const r = paired(5, () => measure((o) => crc32Js(buf, o, o + n)), () => measure((o) => zlibCrc32(buf.subarray(o, o + n))))
    figures.push({group: 'crc switch', name: `${n} B: JS table, ns/call`, value: r.subject, unit: 'ns', baselineName: 'zlib.crc32', baseline: r.baseline, ratio: r.baseline / r.subject})
  }
  void crc32
}

/**
 * What a first write to a page costs here: through a fresh shared mapping of
 * a preallocated file (what every append into a new segment pays), into a
 * fresh anonymous Buffer, and by pwrite of the same bytes from a warm buffer.
 */
export function faultBench(repeats: number, figures: Figure[]): void {
  const dir = tempDir('faults')
  const file = path.join(dir, 'probe')
  fs.writeFileSync(file, Buffer.alloc(SEGMENT))
  const src = Buffer.alloc(MiB, 1)
  const pages = SEGMENT / 4096
  const touchMap = (): number => {
    const fd = fs.openSync(file, 'r+')
    const map = mmap.map(SEGMENT, 3 as 3, mmap.MAP_SHARED, fd, 0, mmap.MADV_SEQUENTIAL)
    fs.closeSync(fd)
    const t0 = now()
    for (let i = 0; i < SEGMENT; i += 4096) map[i] = 1
    const ms = now() - t0
    gc()
    return ms
  }
  const pwrite = (): number => {
    const fd = fs.openSync(file, 'r+')
    const t0 = now()
    for (let pos = 0; pos < SEGMENT; pos += MiB) fs.writeSync(fd, src, 0, MiB, pos)
    const ms = now() - t0
    fs.closeSync(fd)
    return ms
  }
  const anon = (): number => {
    const t0 = now()
    const b = Buffer.allocUnsafe(SEGMENT)
    for (let i = 0; i < SEGMENT; i += 4096) b[i] = 1
    const ms = now() - t0
    gc()
    return ms
  }
  let r = paired(repeats, touchMap, pwrite)
  figures.push({group: 'page faults', name: 'first write, shared file map, us/page', value: (r.subject * 1000) / pages, unit: 'us', baselineName: 'pwrite of the same pages', baseline: (r.baseline * 1000) / pages, ratio: r.baseline / r.subject,
    extra: {msPer64MiB: r.subject, pwriteMsPer64MiB: r.baseline}})
  r = paired(repeats, anon, pwrite)
  figures.push({group: 'page faults', name: 'first write, fresh anonymous Buffer, us/page', value: (r.subject * 1000) / pages, unit: 'us', baselineName: 'pwrite of the same pages', baseline: (r.baseline * 1000) / pages, ratio: r.baseline / r.subject})
}
