// The append hot path: records taken as ranges of the input chunk, appended
// without a view per record, the mapping populated a window at a time, and
// positions printed as bytes. Each must match the plain path exactly.
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32 as oracle} from 'crc'
import {WalError} from '../src/core/errors.js'
import {FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {formatPositionLines, GroupCommitter} from '../src/core/write/group-commit.js'
import {RecordSplitter} from '../src/core/input/input.js'
import {WalManager} from '../src/core/write/manager.js'
import {scanRecords} from '../src/core/format/records.js'
import {WalSegment} from '../src/core/write/segment.js'
import {BIN, walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

function splitBoth(input: Buffer, cuts: number[], skipEmpty: boolean): {views: string[]; ranges: string[]} {
  const views: string[] = []
  const ranges: string[] = []
  const a = new RecordSplitter({format: 'lines', skipEmpty}, (r, line) => views.push(`${line}=${r.toString('latin1')}`))
  const b = new RecordSplitter({format: 'lines', skipEmpty, onRange: (buf, s, e, line) => ranges.push(`${line}=${buf.toString('latin1', s, e)}`)}, () => {
    throw new Error('emit called for a line record')
  })
  let from = 0
  for (const cut of [...cuts, input.length]) {
    a.push(input.subarray(from, cut))
    b.push(input.subarray(from, cut))
    from = cut
  }
  a.end()
  b.end()
  return {views, ranges}
}

test('ranges give the same records and line numbers as views, whatever the chunking', (t) => {
  const input = Buffer.from('first\nsecond line\n\nx\nlast without newline')
  for (const cuts of [[], [1], [5, 6], [3, 9, 19, 20, 21], Array.from({length: input.length - 1}, (_, i) => i + 1)]) {
    const {views, ranges} = splitBoth(input, cuts, true)
    t.deepEqual(ranges, views)
    t.deepEqual(ranges, ['1=first', '2=second line', '4=x', '5=last without newline'])
  }
})

test('an empty line stops the range path with its line number unless skipped', (t) => {
  const s = new RecordSplitter({format: 'lines', onRange: () => {}}, () => {})
  const e = t.throws(() => s.push(Buffer.from('a\nb\n\nc\n')), {instanceOf: WalError})
  t.regex(e!.message, /line 3: empty line/)
})

test('formatPositionLines writes what string formatting writes', (t) => {
  const segs = Uint32Array.from([1, 9, 10, 99, 100, 123456, 999999, 1000000, 4294967295])
  const offs = Float64Array.from([89, 0, 9, 10, 1073741823, 1073741824, 67108863, 12345678, 97])
  const want = Array.from(segs, (s, i) => `${s}:${offs[i]}\n`).join('')
  t.is(formatPositionLines(segs, offs, segs.length).toString('latin1'), want)
  t.is(formatPositionLines(segs, offs, 3).toString('latin1'), want.split('\n').slice(0, 3).join('\n') + '\n')
  t.is(formatPositionLines(segs, offs, 0).length, 0)
})

test('addRange writes the same bytes as add, rotating where add rotates', (t) => {
  const records = Array.from({length: 300}, (_, i) => randomBytes(1 + ((i * 37) % 200)))
  const bytes: Buffer[] = []
  const positions: string[][] = []
  for (const ranged of [false, true]) {
    const dir = tempDir()
    const m = WalManager.init(dir, {segmentSize: 8192, createdAtUs: 1_700_000_000_000_000n})
    const got: string[] = []
    const gc = new GroupCommitter(m, {maxRecords: 7, maxDelayMs: -1, sync: true, onCommit: (s, o, n) => {
      for (let i = 0; i < n; i++) got.push(`${s[i]}:${o[i]}`)
    }})
    const big = Buffer.concat(records.map((r) => Buffer.concat([Buffer.from('##'), r])))
    let at = 0
    for (const r of records) {
      if (ranged) gc.addRange(big, at + 2, at + 2 + r.length)
      else gc.add(r)
      at += 2 + r.length
    }
    gc.commit()
    m.close()
    positions.push(got)
    // Rotated segments carry their own creation time: compare names and everything after the header.
    bytes.push(Buffer.concat(fs.readdirSync(dir).sort().flatMap((n) => [Buffer.from(n), fs.readFileSync(path.join(dir, n)).subarray(FIRST_RECORD_OFFSET)])))
  }
  t.is(positions[1].length, records.length)
  t.deepEqual(positions[1], positions[0])
  t.true(new Set(positions[1].map((p) => p.split(':')[0])).size > 3, 'rotated several times')
  t.true(bytes[1].equals(bytes[0]))
})

test('appendRange refuses exactly as append does', (t) => {
  const dir = tempDir()
  const seg = WalSegment.create(dir, 1, 200)
  const src = Buffer.alloc(300, 1)
  const msg = (f: () => unknown): string => (t.throws(f, {instanceOf: WalError}) as WalError).message
  t.is(msg(() => seg.appendRange(src, 5, 5)), msg(() => seg.append(Buffer.alloc(0))))
  t.is(msg(() => seg.appendRange(src, 0, 200)), msg(() => seg.append(src.subarray(0, 200))))
  seg.append(src.subarray(0, 90))
  t.is(msg(() => seg.appendRange(src, 0, 20)), msg(() => seg.append(src.subarray(0, 20))))
  t.regex(msg(() => seg.appendRange(src, 0, 20)), /does not fit: 13 bytes left/)
  seg.close()
  t.regex(msg(() => seg.appendRange(src, 0, 1)), /segment is closed/)
  const ro = WalSegment.open(seg.path, {readOnly: true})
  t.regex(msg(() => ro.appendRange(src, 0, 1)), /read-only/)
})

test('a segment filled across many populate windows, reopened mid-page, reads back record for record', (t) => {
  const dir = tempDir()
  const size = 3 * 1024 * 1024 + 12_345
  let seg = WalSegment.create(dir, 1, size)
  const written: Buffer[] = []
  let i = 0
  const next = (): Buffer => randomBytes(1 + ((i++ * 7919) % 5000))
  // Half now, then reopen (write pointer not page-aligned) and fill to the end.
  while (seg.writePointer < size / 2) {
    const r = next()
    seg.append(r)
    written.push(r)
  }
  seg.close()
  seg = WalSegment.open(path.join(dir, 'wal_000001.log'))
  t.not(seg.writePointer % 4096, 0)
  for (;;) {
    const r = next()
    if (!seg.fits(r.length)) break
    seg.append(r)
    written.push(r)
  }
  seg.close()
  const buf = fs.readFileSync(seg.path)
  const seen: number[] = []
  const scan = scanRecords(buf, {onRecord: (off, length, crc) => {
    const k = seen.length
    seen.push(off)
    if (!buf.subarray(off + 8, off + 8 + length).equals(written[k]) || crc !== oracle(written[k])) t.fail(`record ${k} differs`)
  }})
  t.is(scan.damage.length, 0)
  t.is(scan.records, written.length)
  t.is(seen[0], FIRST_RECORD_OFFSET)
})

test('append --stdin from a regular file (read in 1 MiB chunks) stores every line, also when lines straddle chunks', (t) => {
  const dir = tempDir()
  const wal = path.join(dir, 'wal')
  const lines = Array.from({length: 6000}, (_, i) => `${i}:`.padEnd(100 + ((i * 131) % 900), String.fromCharCode(97 + (i % 26))))
  const input = path.join(dir, 'input.txt')
  fs.writeFileSync(input, lines.join('\n') + '\n')
  t.true(fs.statSync(input).size > 2 * 1024 * 1024)
  t.is(walctl(['init', wal, '--segment-size', '1MiB']).code, 0)
  const fd = fs.openSync(input, 'r')
  const r = spawnSync(process.execPath, [BIN, 'append', wal, '--stdin'], {stdio: [fd, 'pipe', 'pipe']})
  fs.closeSync(fd)
  t.is(r.status, 0, r.stderr.toString())
  const positions = r.stdout.toString().trimEnd().split('\n')
  t.is(positions.length, lines.length)
  const stored: string[] = []
  for (const name of fs.readdirSync(wal).filter((n) => n.endsWith('.log')).sort()) {
    const buf = fs.readFileSync(path.join(wal, name))
    scanRecords(buf, {onRecord: (off, length) => {
      stored.push(buf.toString('latin1', off + 8, off + 8 + length))
    }})
  }
  t.deepEqual(stored, lines)
  t.is(positions[0], '1:89')
})
