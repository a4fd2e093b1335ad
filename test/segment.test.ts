// WalSegment and WalManager through the library: real files, real mmap.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {WalError} from '../src/core/errors.js'
import {decodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {WalManager} from '../src/core/write/manager.js'
import {WalSegment} from '../src/core/write/segment.js'
import {copyFixture, loadManifest, tempDir} from './helpers/fixtures.js'

test('create preallocates every block, leaves no temporary file, and opens at 89', (t) => {
  const dir = tempDir()
  const seg = WalSegment.create(dir, 7, 8192, 1_700_000_000_000_000n)
  t.is(seg.id, 7)
  t.is(path.basename(seg.path), 'wal_000007.log')
  t.is(seg.capacity, 8192)
  t.is(seg.writePointer, FIRST_RECORD_OFFSET)
  t.is(seg.remaining, 8192 - 89)
  t.false(seg.isFull)
  seg.close()
  const st = fs.statSync(seg.path)
  t.is(st.size, 8192)
  t.true(st.blocks * 512 >= 8192, 'not sparse')
  t.deepEqual(fs.readdirSync(dir), ['wal_000007.log'])
  const h = decodeHeader(fs.readFileSync(seg.path))
  t.is(h.createdAtUs, 1_700_000_000_000_000n)
  t.is(h.modifiedAtUs, h.createdAtUs)
})

test('append writes [len][crc][data], moves the pointer, and a reopen recovers it by scanning', (t) => {
  const dir = tempDir()
  const seg = WalSegment.create(dir, 1, 4096)
  t.is(seg.append(Buffer.from('hello')), 89)
  t.is(seg.append(Buffer.from([0, 0, 0])), 102)
  t.is(seg.writePointer, 113)
  seg.sync()
  t.is(seg.syncedPointer, 113)
  seg.close()
  const again = WalSegment.open(path.join(dir, 'wal_000001.log'), {readOnly: true})
  t.is(again.writePointer, 113)
  t.true(again.readOnly)
  t.throws(() => again.append(Buffer.from('x')), {instanceOf: WalError})
  const raw = fs.readFileSync(path.join(dir, 'wal_000001.log'))
  t.is(raw.readUInt32LE(89), 5)
  t.is(raw.readUInt32LE(93), 0x3610a686)
  t.is(raw.toString('utf8', 97, 102), 'hello')
})

test('empty and oversized records are refused with the limit', (t) => {
  const seg = WalSegment.create(tempDir(), 1, 1024)
  t.throws(() => seg.append(Buffer.alloc(0)), {message: /empty record/})
  t.throws(() => seg.append(Buffer.alloc(1024 - 89 - 8 + 1)), {message: /at most 927/})
  t.is(seg.append(Buffer.alloc(927, 1)), 89)
  t.true(seg.isFull)
  t.is(seg.remaining, 0)
  t.throws(() => seg.append(Buffer.from('x')), {message: /does not fit: 0 bytes left/})
})

test('open never maps a zero-length or too-short file and names it', (t) => {
  const dir = tempDir()
  for (const size of [0, 40, 88]) {
    const file = path.join(dir, 'wal_000001.log')
    fs.writeFileSync(file, Buffer.alloc(size))
    const err = t.throws(() => WalSegment.open(file), {instanceOf: WalError})
    t.is(err?.exitCode, 65)
    t.is(err?.offset, size)
    t.regex(err?.message ?? '', new RegExp(`${size} bytes, shorter than the 89-byte segment header`))
  }
})

test('the manager opens a Shardex index root, rotates when a record does not fit, and never spans', (t) => {
  const root = copyFixture('forced-rotate')
  const m = WalManager.open(root)
  t.is(m.dir, path.join(root, 'wal'))
  t.is(m.segmentSize, 4096)
  t.is(m.current().id, 2)
  t.is(m.current().writePointer, loadManifest('forced-rotate').segments[1].write_pointer)
  const big = Buffer.alloc(m.maxPayload, 3)
  t.deepEqual(m.append(big), {segment: 3, offset: 89})
  t.deepEqual(m.append(Buffer.from('next')), {segment: 4, offset: 89})
  t.is(m.rotate(), 5)
  m.close()
  t.deepEqual(fs.readdirSync(m.dir).sort(), ['wal_000001.log', 'wal_000002.log', 'wal_000003.log', 'wal_000004.log', 'wal_000005.log'])
})

test('the manager reports stray files without touching them and continues after the highest id', (t) => {
  const dir = tempDir()
  WalManager.init(dir, {segmentSize: 1024}).close()
  fs.renameSync(path.join(dir, 'wal_000001.log'), path.join(dir, 'wal_000004.log'))
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'keep me')
  fs.writeFileSync(path.join(dir, 'wal_000005.log.tmp'), 'half made')
  const m = WalManager.open(dir)
  t.deepEqual(m.strays.map((s) => [s.name, s.kind]), [['notes.txt', 'other'], ['wal_000005.log.tmp', 'temporary']])
  t.is(m.rotate(), 5)
  m.close()
  t.is(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'keep me')
  t.is(fs.readFileSync(path.join(dir, 'wal_000005.log.tmp'), 'utf8'), 'half made')
})

test('the manager refuses to append after damage in the newest segment', (t) => {
  const root = copyFixture('small')
  const file = path.join(root, 'wal', 'wal_000001.log')
  const buf = fs.readFileSync(file)
  const end = loadManifest('small').segments[0].write_pointer
  buf.writeUInt32LE(50, end) // a torn record: a length with no data behind it
  fs.writeFileSync(file, buf)
  const m = WalManager.open(root)
  const err = t.throws(() => m.append(Buffer.from('x')), {instanceOf: WalError})
  t.is(err?.offset, end)
  t.regex(err?.message ?? '', /crc-mismatch.*refusing to append after damage/)
})
