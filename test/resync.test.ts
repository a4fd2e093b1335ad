// Resync past damage: range CRCs against an independent CRC, no record
// invented from a fragment inside a damaged record, and linear time on the
// adversarial patterns that made the old resync quadratic.
import {randomBytes, randomInt} from 'node:crypto'
import test from 'ava'
import {crc32 as oracle} from 'crc'
import {crc32} from '../src/core/format/crc.js'
import {encodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {CrcPrefix, shiftZeros} from '../src/core/read/crc-range.js'
import {scanRecords} from '../src/core/format/records.js'
import {ADVERSARIAL} from './helpers/adversarial.js'

const MiB = 1024 * 1024

function record(payload: Buffer): Buffer {
  const out = Buffer.alloc(8 + payload.length)
  out.writeUInt32LE(payload.length, 0)
  out.writeUInt32LE(crc32(payload), 4)
  payload.copy(out, 8)
  return out
}

function segment(size: number, ...parts: Buffer[]): Buffer {
  const buf = Buffer.alloc(size)
  encodeHeader(1_700_000_000_000_000n).copy(buf, 0)
  let at = FIRST_RECORD_OFFSET
  for (const p of parts) {
    p.copy(buf, at)
    at += p.length
  }
  return buf
}

function listed(buf: Buffer): Array<{offset: number; resynced: boolean}> {
  const out: Array<{offset: number; resynced: boolean}> = []
  scanRecords(buf, {onRecord: (offset, _length, _crc, resynced) => void out.push({offset, resynced})})
  return out
}

test('range CRCs from prefix registers equal the crc package on random ranges, strides and lengths', (t) => {
  for (const size of [1, 17, 4096, 3 * MiB + 5]) {
    const buf = randomBytes(size)
    const prefix = new CrcPrefix(buf, size)
    for (let i = 0; i < 400; i++) {
      const a = randomInt(size + 1)
      const e = a + randomInt(size - a + 1)
      if (prefix.crc(a, e) !== oracle(buf.subarray(a, e))) t.fail(`size ${size}: [${a}, ${e})`)
    }
  }
  // Edges of the byte-sliced zero-run maps.
  for (const n of [0, 1, 255, 256, 257, 65_535, 65_536, 16_777_215, 16_777_216, 2 ** 32 - 1]) {
    let r = 0x12345678
    if (n < 70_000) {
      for (let i = 0; i < n; i++) r = shiftZeros(r, 1)
      t.is(shiftZeros(0x12345678, n), r, `${n} zero bytes`)
    } else {
      t.is(shiftZeros(shiftZeros(0x12345678, n - 65_536), 65_536), shiftZeros(0x12345678, n), `${n} zero bytes composed`)
    }
  }
})

test('a record embedded in a damaged record (bad length) is not invented; the next real record is found', (t) => {
  const inner = record(Buffer.from('an embedded record-shaped fragment'))
  const outerPayload = Buffer.concat([Buffer.from([1, 2, 3, 4]), inner, Buffer.alloc(20, 0xff)])
  const outer = record(outerPayload)
  const after = [record(Buffer.from('first real record after')), record(Buffer.from('second real record after'))]
  const buf = segment(64 * 1024, outer, ...after)
  t.deepEqual(listed(buf).map((r) => r.offset), [FIRST_RECORD_OFFSET, FIRST_RECORD_OFFSET + outer.length, FIRST_RECORD_OFFSET + outer.length + after[0].length])
  // The outer record's length field damaged: past the capacity, and shrunk to end at the fragment.
  for (const length of [0x00ff_ffff, 4]) {
    const bad = Buffer.from(buf)
    bad.writeUInt32LE(length, FIRST_RECORD_OFFSET)
    const recs = listed(bad)
    t.false(recs.some((r) => r.offset === FIRST_RECORD_OFFSET + 12), `length ${length}: the fragment at 101 is not a record`)
    t.deepEqual(recs, [{offset: FIRST_RECORD_OFFSET + outer.length, resynced: true}, {offset: FIRST_RECORD_OFFSET + outer.length + after[0].length, resynced: true}])
    const scan = scanRecords(bad)
    t.is(scan.damage.length, 1)
    t.is(scan.damage[0].offset, FIRST_RECORD_OFFSET)
    t.is(scan.damage[0].end, FIRST_RECORD_OFFSET + outer.length)
    t.true(scan.damage[0].hidesRecords)
  }
})

test('a resynced record is confirmed by the zero tail or the segment end, and scanning goes on from it', (t) => {
  const a = record(Buffer.from('aaaa'))
  const last = record(Buffer.from('the last record'))
  const buf = segment(4096, a, Buffer.from([9, 9, 9, 9, 9, 9, 9]), last)
  const recs = listed(buf)
  t.deepEqual(recs.map((r) => r.offset), [FIRST_RECORD_OFFSET, FIRST_RECORD_OFFSET + a.length + 7])
  t.true(recs[1].resynced)
  // The same record ending exactly at the segment's end.
  const exact = segment(FIRST_RECORD_OFFSET + a.length + 7 + last.length, a, Buffer.from([9, 9, 9, 9, 9, 9, 9]), last)
  t.is(listed(exact).length, 2)
  // A record after damage followed by more damage is not confirmed: what follows it is neither valid nor zero.
  const lone = segment(4096, a, Buffer.from([9, 9, 9, 9, 9, 9, 9]), last, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]))
  t.deepEqual(listed(lone).map((r) => r.offset), [FIRST_RECORD_OFFSET])
})

function adversarialSegment(size: number, pattern: (body: Buffer) => void): Buffer {
  const buf = segment(size)
  pattern(buf.subarray(FIRST_RECORD_OFFSET))
  return buf
}

for (const [name, fill] of Object.entries(ADVERSARIAL)) {
  test(`16 MiB of ${name}: scanned in linear time, no record invented`, (t) => {
    t.timeout(60_000)
    const scan = scanRecords(adversarialSegment(16 * MiB, fill))
    t.is(scan.records, 0)
    t.is(scan.damage.length, 1)
    t.is(scan.damage[0].offset, FIRST_RECORD_OFFSET)
  })
}

/** A segment of random records (some longer than a small window), then damage of every kind at random places. */
function damagedSegment(seed: number, size: number): Buffer {
  let s = seed >>> 0
  const rand = (n: number): number => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0
    return (s >>> 8) % n
  }
  const parts: Buffer[] = []
  let used = FIRST_RECORD_OFFSET
  for (;;) {
    const length = rand(8) === 0 ? 1 + rand(12_000) : 1 + rand(300)
    if (used + 8 + length > size - 2000) break
    const payload = Buffer.alloc(length)
    for (let i = 0; i < length; i++) payload[i] = rand(256)
    parts.push(record(payload))
    used += 8 + length
  }
  const buf = segment(size, ...parts)
  for (let k = rand(6); k > 0; k--) {
    const at = FIRST_RECORD_OFFSET + rand(used - FIRST_RECORD_OFFSET)
    const what = rand(3)
    if (what === 0) buf[at] ^= 1 << rand(8)
    else if (what === 1) buf.fill(0, at, Math.min(size, at + rand(5000)))
    else buf.writeUInt32LE(rand(2) ? 0xffff_ffff : rand(40_000), Math.min(at, size - 4))
  }
  if (rand(3) === 0) buf.fill(0x5a, used + 3, used + 3 + rand(1500))
  return buf
}

test('a scan through a small sliding window finds what a scan in memory finds: records, damage, resync points', async (t) => {
  const {FileWindow} = await import('../src/core/read/file-window.js')
  const fs = await import('node:fs')
  const os = await import('node:os')
  const path = await import('node:path')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walctl-window-'))
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}))
  const file = path.join(dir, 'seg')
  let compared = 0
  let resyncedSegments = 0
  let longRecords = 0
  for (let seed = 1; seed <= 60; seed++) {
    const buf = damagedSegment(seed, 200_000 + (seed % 7) * 1000)
    fs.writeFileSync(file, buf)
    const collect = (source: Buffer | InstanceType<typeof FileWindow>) => {
      const recs: string[] = []
      const scan = scanRecords(source, {onRecord: (o, l, c, r) => void recs.push(`${o}:${l}:${c}:${r}`)})
      return {recs, damage: scan.damage, cleanEnd: scan.cleanEnd, lastRecordEnd: scan.lastRecordEnd}
    }
    const want = collect(buf)
    if (want.recs.some((r) => r.endsWith(':true'))) resyncedSegments++
    longRecords += want.recs.filter((r) => Number(r.split(':')[1]) > 4096).length
    for (const window of [4096, 16_384, 65_536]) {
      const fd = fs.openSync(file, 'r')
      try {
        const src = new FileWindow(fd, buf.length, file, undefined, window)
        src.load(0)
        t.deepEqual(collect(src), want, `seed ${seed}, window ${window}`)
        compared++
      } finally {
        fs.closeSync(fd)
      }
    }
  }
  t.is(compared, 180)
  // The cases hold what the window changes: records found past damage, and records longer than a window.
  t.true(resyncedSegments >= 10, `${resyncedSegments} segments with resynced records`)
  t.true(longRecords >= 100, `${longRecords} records longer than the smallest window`)
})
