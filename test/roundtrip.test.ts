// Appends through real processes read back exactly, in order.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32 as oracleCrc32} from 'crc'
import {maxPayloadSize} from '../src/core/format/format.js'
import {walctl} from './helpers/cli.js'
import {snapshot, tempDir} from './helpers/fixtures.js'

interface DumpRecord {
  segment: number
  offset: number
  length: number
  crc32: string
  data: string
}

function dump(dir: string): DumpRecord[] {
  const r = walctl(['dump', dir, '--format', 'jsonl'])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DumpRecord)
}

function newWal(size: string | number): string {
  const dir = path.join(tempDir(), 'wal')
  const r = walctl(['init', dir, '--segment-size', String(size)])
  if (r.code !== 0) throw new Error(r.stderr)
  return dir
}

test('binary payloads with zero bytes round-trip through --file and --stdin --input hex/base64', (t) => {
  const dir = newWal('4KiB')
  const payloads = [Buffer.from([0]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0xff, 0, 0x0a, 0x0d, 0]), Buffer.alloc(300, 0)]
  const file = path.join(tempDir(), 'blob.bin')
  fs.writeFileSync(file, payloads[0])
  t.is(walctl(['append', dir, '--file', file]).code, 0)
  t.is(walctl(['append', dir, '--stdin', '--input', 'hex'], {input: payloads.slice(1, 3).map((p) => p.toString('hex')).join('\n')}).code, 0)
  t.is(walctl(['append', dir, '--stdin', '--input', 'base64'], {input: payloads[3].toString('base64') + '\n'}).code, 0)
  const records = dump(dir)
  t.deepEqual(records.map((r) => r.data), payloads.map((p) => p.toString('hex')))
  // The stored CRC is CRC-32/IEEE, checked against an independent implementation.
  t.deepEqual(records.map((r) => r.crc32), payloads.map((p) => (oracleCrc32(p) >>> 0).toString(16).padStart(8, '0')))
})

test('a payload of exactly the largest size fits; one byte more is refused and nothing is written', (t) => {
  const size = 4096
  const max = maxPayloadSize(size)
  t.is(max, 4096 - 89 - 8)
  const dir = newWal(size)
  const tmp = tempDir()
  const tooBig = path.join(tmp, 'too-big.bin')
  fs.writeFileSync(tooBig, Buffer.alloc(max + 1, 7))
  const before = snapshot(dir)
  const refused = walctl(['append', dir, '--file', tooBig])
  t.is(refused.code, 65)
  t.regex(refused.stderr, new RegExp(`${max + 1} bytes.*at most ${max}`))
  t.is(refused.stderr.trim().split('\n').length, 1, 'one line')
  t.deepEqual(snapshot(dir), before)

  const exact = path.join(tmp, 'exact.bin')
  fs.writeFileSync(exact, Buffer.alloc(max, 9))
  const r = walctl(['append', dir, '--file', exact])
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout.trim(), '1:89')
  // The segment is now exactly full: the next record rotates.
  const next = walctl(['append', dir, 'next'])
  t.is(next.stdout.trim(), '2:89')
  const records = dump(dir)
  t.is(records.length, 2)
  t.is(records[0].length, max)
})

test('rotation across many segments keeps every record, in order, and none spans segments', (t) => {
  const dir = newWal(1024)
  const lines = Array.from({length: 600}, (_, i) => `record-${i}-${'x'.repeat(i % 97)}`)
  const r = walctl(['append', dir, '--stdin'], {input: lines.join('\n') + '\n'})
  t.is(r.code, 0, r.stderr)
  const positions = r.stdout.trim().split('\n')
  t.is(positions.length, lines.length)
  const records = dump(dir)
  t.deepEqual(records.map((x) => Buffer.from(x.data, 'hex').toString()), lines)
  t.deepEqual(records.map((x) => `${x.segment}:${x.offset}`), positions)
  for (const rec of records) t.true(rec.offset + 8 + rec.length <= 1024)
  const segments = new Set(records.map((x) => x.segment))
  t.true(segments.size > 30, `${segments.size} segments`)
  t.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.log')).length, segments.size)
})

test('appends from successive processes continue where the last one stopped', (t) => {
  const dir = newWal('4KiB')
  const a = walctl(['append', dir, 'one', 'two'])
  const b = walctl(['append', dir, 'three'])
  const c = walctl(['append', dir, '--stdin'], {input: 'four\nfive'})
  t.deepEqual([a.stdout, b.stdout, c.stdout].join('').trim().split('\n'), ['1:89', '1:100', '1:111', '1:124', '1:136'])
  t.deepEqual(dump(dir).map((x) => Buffer.from(x.data, 'hex').toString()), ['one', 'two', 'three', 'four', 'five'])
  t.is(walctl(['verify', dir]).code, 0)
})

test('append from a pipe of 100,000 lines: every position printed, every record there', (t) => {
  const dir = newWal('1MiB')
  const lines = Array.from({length: 100_000}, (_, i) => `line ${i}`)
  const r = walctl(['append', dir, '--stdin'], {input: lines.join('\n') + '\n'})
  t.is(r.code, 0, r.stderr)
  const positions = r.stdout.trim().split('\n')
  t.is(positions.length, 100_000)
  const records = dump(dir)
  t.is(records.length, 100_000)
  t.deepEqual(records.map((x) => `${x.segment}:${x.offset}`), positions)
  t.is(Buffer.from(records[99_999].data, 'hex').toString(), 'line 99999')
})

test('rotate starts the next segment on demand and prints its id', (t) => {
  const dir = newWal('4KiB')
  walctl(['append', dir, 'a'])
  const r = walctl(['rotate', dir])
  t.is(r.code, 0)
  t.is(r.stdout.trim(), '2')
  t.is(walctl(['append', dir, 'b']).stdout.trim(), '2:89')
  const j = walctl(['rotate', dir, '--json'])
  t.like(JSON.parse(j.stdout), {previous: 2, segment: 3})
})

test('stdin lines: an empty line is an error naming its line unless --skip-empty', (t) => {
  const dir = newWal('4KiB')
  const before = snapshot(dir)
  const r = walctl(['append', dir, '--stdin'], {input: '\n'})
  t.is(r.code, 65)
  t.regex(r.stderr, /line 1: empty line/)
  t.deepEqual(snapshot(dir), before)
  const ok = walctl(['append', dir, '--stdin', '--skip-empty'], {input: 'a\n\nb\n'})
  t.is(ok.code, 0)
  t.is(ok.stdout.trim().split('\n').length, 2)
  // A bad line mid-stream: what came before is durable and acknowledged, nothing after is written.
  const mid = walctl(['append', dir, '--stdin'], {input: 'c\nd\n\ne\n'})
  t.is(mid.code, 65)
  t.regex(mid.stderr, /line 3: empty line.*2 record\(s\) before it were appended/)
  t.is(mid.stdout.trim().split('\n').length, 2)
  t.deepEqual(dump(dir).map((x) => Buffer.from(x.data, 'hex').toString()), ['a', 'b', 'c', 'd'])
})

test('stdin raw: all of standard input is one record', (t) => {
  const dir = newWal('4KiB')
  const input = Buffer.from('line one\nline two\n\0binary')
  const r = walctl(['append', dir, '--stdin', '--input', 'raw'], {input})
  t.is(r.code, 0)
  t.deepEqual(dump(dir).map((x) => x.data), [input.toString('hex')])
})

test('hex input that is not hex is refused with its line number', (t) => {
  const dir = newWal('4KiB')
  const r = walctl(['append', dir, '--stdin', '--input', 'hex'], {input: 'abcd\nxyz\n'})
  t.is(r.code, 65)
  t.regex(r.stderr, /line 2: not hex/)
})
