// scanWal looks at a segment first through a small window, for speed, and
// scans it again through the full one at the first damage: a scan must give
// exactly what one pass through the full window gives (a visitor of records
// makes the scan take that one pass), damage or not. The last case is one
// where the small window alone would answer differently.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from '../src/core/format/crc.js'
import {encodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {RecordScanner} from '../src/core/format/records.js'
import {CLEAN_PASS_WINDOW, FileWindow} from '../src/core/read/file-window.js'
import {scanWal} from '../src/core/read/scan.js'
import {tempDir} from './helpers/fixtures.js'

const SEGMENT = 16 * 1024 * 1024
const CREATED = 1_767_225_600_000_000n

/** A segment of records of the given sizes, then zeros; returns it and each record's offset. */
function segment(sizes: number[]): {buf: Buffer; offsets: number[]} {
  const buf = Buffer.alloc(SEGMENT)
  encodeHeader(CREATED).copy(buf)
  const offsets: number[] = []
  let at = FIRST_RECORD_OFFSET
  for (const [i, size] of sizes.entries()) {
    const payload = Buffer.alloc(size, (i * 7 + 1) & 0xff)
    payload.writeUInt32LE(i, 0)
    buf.writeUInt32LE(size, at)
    buf.writeUInt32LE(crc32(payload), at + 4)
    payload.copy(buf, at + 8)
    offsets.push(at)
    at += 8 + size
  }
  return {buf, offsets}
}

function scanBoth(t: import('ava').ExecutionContext, buf: Buffer): ReturnType<typeof scanWal> {
  const dir = path.join(tempDir(), 'wal')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'wal_000001.log'), buf)
  const options = {nowUs: CREATED + 1_000_000n, settleTries: 0}
  const fast = scanWal(dir, options)
  t.deepEqual(fast, scanWal(dir, {...options, onRecord: () => {}}))
  return fast
}

const small = Array.from({length: 4000}, (_, i) => 100 + (i % 50) * 37)

test('an undamaged segment, records longer than the small window among them', (t) => {
  const {buf} = segment([...small, 3 * 1024 * 1024, ...small, CLEAN_PASS_WINDOW * 2 + 5, 10])
  const scan = scanBoth(t, buf)
  t.is(scan.verdict, 'clean')
  t.is(scan.records, small.length * 2 + 3)
})

test('damage early, in the middle, across a small window\'s end, and a torn tail', (t) => {
  const {buf, offsets} = segment([...small, ...small, ...small])
  buf[offsets[3] + 20] ^= 0xff
  const across = offsets.findIndex((o) => o > CLEAN_PASS_WINDOW - 50)
  buf[offsets[across] + 9] ^= 0x01
  buf.fill(0xee, offsets[6000], offsets[6000] + 5000)
  // A tail: the last record's length without its data.
  buf.writeUInt32LE(5000, offsets.at(-1)! + 8 + 100 + ((small.length * 3 - 1) % 50) * 37)
  const scan = scanBoth(t, buf)
  t.is(scan.verdict, 'damaged')
  t.true(scan.problems.length >= 4, JSON.stringify(scan.problems.map((p) => p.kind)))
})

test('a long record behind damage that a small window would not find: the full window\'s answer', (t) => {
  // After a broken record, 3 MiB of bytes that look everywhere like the header of a 2 MiB record: a window
  // of 1 MiB streams the CRC of each candidate from outside it and runs out of its budget for that, so the
  // 3 MiB record that follows is passed over; the full window holds them all.
  const {buf, offsets} = segment([100, 100, 3 * 1024 * 1024 + 500, 100, 100])
  const junk = Buffer.alloc(3 * 1024 * 1024)
  for (let at = 0; at < junk.length; at += 4) junk.writeUInt32LE(2 * 1024 * 1024, at)
  const moved = segment([100, 100])
  const rest = buf.subarray(offsets[2], offsets[4] + 108)
  const out = Buffer.alloc(SEGMENT)
  moved.buf.copy(out, 0, 0, offsets[2])
  junk.copy(out, offsets[2])
  rest.copy(out, offsets[2] + junk.length)
  out[offsets[1] + 30] ^= 0xff
  const full = scanBoth(t, out)
  const longOne = offsets[2] + junk.length
  t.is(full.segments[0].resyncedRecords, 3, 'the long record and the two after it')
  t.true(full.problems.every((p) => p.end === undefined || p.end <= longOne))
  // What one pass through the small window alone would have said.
  const file = path.join(full.dir, 'wal_000001.log')
  const fd = fs.openSync(file, 'r')
  try {
    const src = new FileWindow(fd, SEGMENT, file, undefined, CLEAN_PASS_WINDOW)
    src.load(0)
    const scanner = new RecordScanner(src, {capacity: SEGMENT})
    scanner.run()
    t.not(scanner.result().records, full.records, 'the small window alone misses the long record')
  } finally {
    fs.closeSync(fd)
  }
})
