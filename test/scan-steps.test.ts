// The scan as steps: scanWalAsync lets the event loop turn between segments
// and windows (a checkpoint at each, which may abort), and answers as scanWal
// does; a segment larger than the window is scanned window by window.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from '../src/core/format/crc.js'
import {encodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {WalManager} from '../src/core/write/manager.js'
import {WINDOW_SIZE} from '../src/core/read/file-window.js'
import {scanWal, scanWalAsync} from '../src/core/read/scan.js'
import {verifyWal, verifyWalAsync} from '../src/core/read/verify.js'
import {tempDir} from './helpers/fixtures.js'

function wal(segments: number): string {
  const dir = path.join(tempDir(), 'wal')
  const m = WalManager.init(dir, {segmentSize: 512, createdAtUs: 1_767_225_600_000_000n})
  for (let i = 0; i < segments * 8; i++) m.append(Buffer.from(`record-${i}`.padEnd(40, '.')))
  m.close()
  return dir
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length
}

test('scanWalAsync calls the checkpoint between segments and answers as scanWal does', async (t) => {
  const dir = wal(5)
  let checkpoints = 0
  // A handler queued now runs at the first checkpoint only if the scan really lets the event loop turn.
  let turned = false
  setImmediate(() => (turned = true))
  const async = await scanWalAsync(dir, {checkpoint: () => {
    if (checkpoints++ === 0) t.true(turned)
  }})
  t.true(checkpoints >= 5, `${checkpoints} checkpoints`)
  t.deepEqual(async, scanWal(dir))
  t.deepEqual(await verifyWalAsync(dir), verifyWal(dir))
})

// Serial: the count of open files is the process's, and the other tests here open segments of their own.
test.serial('a checkpoint that throws ends the scan with its error, every segment file closed', async (t) => {
  const dir = wal(6)
  const before = openFds()
  let calls = 0
  const error = await t.throwsAsync(scanWalAsync(dir, {
    checkpoint: () => {
      if (++calls === 3) throw new Error('interrupted')
    },
  }))
  t.is(error?.message, 'interrupted')
  t.is(calls, 3)
  t.is(openFds(), before)
})

test('a segment larger than the window: records across windows, damage past the first window, resynced records after it', async (t) => {
  t.timeout(120_000)
  const dir = path.join(tempDir(), 'wal')
  fs.mkdirSync(dir)
  const size = WINDOW_SIZE + 8 * 1024 * 1024
  const seg = Buffer.alloc(size)
  encodeHeader(1_767_225_600_000_000n).copy(seg)
  const payload = Buffer.alloc(4000, 0x61)
  const offsets: number[] = []
  let at = FIRST_RECORD_OFFSET
  for (let i = 0; at + 8 + payload.length <= size - 100_000; i++) {
    payload.writeUInt32LE(i, 0)
    seg.writeUInt32LE(payload.length, at)
    seg.writeUInt32LE(crc32(payload), at + 4)
    payload.copy(seg, at + 8)
    offsets.push(at)
    at += 8 + payload.length
  }
  // One flipped payload byte in a record past the first window.
  const hit = offsets.findIndex((o) => o > WINDOW_SIZE + 1000)
  seg[offsets[hit] + 100] ^= 0xff
  fs.writeFileSync(path.join(dir, 'wal_000001.log'), seg)
  let windows = 0
  const seen: number[] = []
  const scan = await scanWalAsync(dir, {settleTries: 0, checkpoint: () => void windows++, onRecord: (_s, p, offset, length) => {
    if (p.bytes().readUInt32LE(0) !== offsets.indexOf(offset) || length !== 4000) throw new Error(`payload of ${offset}`)
    seen.push(offset)
  }})
  t.true(windows >= 2, `${windows} steps`)
  t.deepEqual(seen, offsets.filter((_o, i) => i !== hit))
  t.is(scan.segments[0].resyncedRecords, offsets.length - hit - 1)
  t.deepEqual(scan.problems.map((p) => [p.kind, p.offset, p.severity]), [['crc-mismatch', offsets[hit], 'damaged']])
})
