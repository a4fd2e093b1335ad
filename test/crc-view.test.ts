// crc32View (the append path's CRC, read through a DataView sixteen bytes a
// step) against zlib's crc32 at every start alignment and length, and inside
// a real segment after appends.
import {randomBytes} from 'node:crypto'
import * as path from 'node:path'
import {crc32 as zlibCrc32} from 'node:zlib'
import test from 'ava'
import {crc32View, JS_CRC_MAX} from '../src/core/format/crc.js'
import {WalSegment} from '../src/core/write/segment.js'
import {tempDir} from './helpers/fixtures.js'

test('crc32View equals zlib.crc32 for every start alignment and every length up to past the zlib switch', (t) => {
  const bytes = randomBytes(4096)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  let wrong = 0
  for (let start = 0; start < 24; start++) {
    for (let length = 0; length <= JS_CRC_MAX + 40; length++) {
      if (crc32View(view, bytes, start, start + length) !== zlibCrc32(bytes.subarray(start, start + length)) >>> 0) wrong++
    }
  }
  t.is(wrong, 0)
})

test('records appended to a segment carry zlib\'s CRC of their data', (t) => {
  const seg = WalSegment.create(tempDir(), 1, 256 * 1024)
  const records = Array.from({length: 300}, (_, i) => randomBytes(1 + ((i * 37) % 700)))
  const offsets = records.map((r) => seg.append(r))
  const map = seg.bytes()
  t.deepEqual(offsets.map((o) => map.readUInt32LE(o + 4)), records.map((r) => zlibCrc32(r) >>> 0))
  t.deepEqual(offsets.map((o) => map.readUInt32LE(o)), records.map((r) => r.length))
  seg.close()
  const again = WalSegment.open(path.join(seg.path))
  t.is(again.writePointer, offsets.at(-1)! + 8 + records.at(-1)!.length)
  again.close()
})
