// Readers on hostile bytes, through real processes: crafted 16 MiB segments
// answered in seconds (they took minutes to hours), a 3 GiB sparse segment
// answered in bounded memory, a huge id gap as one problem, a file that is not
// a segment as one problem, and an unreadable segment that does not cost the
// others' records.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from '../src/core/format/crc.js'
import {encodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {WalManager} from '../src/core/write/manager.js'
import {ADVERSARIAL} from './helpers/adversarial.js'
import {BIN, walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

const MiB = 1024 * 1024
const CREATED_US = 1_767_225_600_000_000n

/** A WAL of three 512-byte segments holding 20 records of 40 bytes (8, 8, 4). */
function smallWal(): string {
  const dir = path.join(tempDir(), 'wal')
  const m = WalManager.init(dir, {segmentSize: 512, createdAtUs: CREATED_US})
  for (let i = 0; i < 20; i++) m.append(Buffer.from(`record-${i}`.padEnd(40, '.')))
  m.close()
  return dir
}

function jsonl(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
}

// Every pattern but one of the two repeated short lengths: 00 00 08 00 is the slower of them.
const PATTERNS = Object.entries(ADVERSARIAL).filter(([name]) => name !== 'repeated 00 00 20 00')

for (const [name, fill] of PATTERNS) {
  test(`a 16 MiB segment of ${name}: verify, dump and recover --dry-run answer in seconds, no record invented`, (t) => {
    t.timeout(300_000)
    const dir = path.join(tempDir(), 'wal')
    fs.mkdirSync(dir)
    const seg = Buffer.alloc(16 * MiB)
    encodeHeader(CREATED_US).copy(seg)
    fill(seg.subarray(FIRST_RECORD_OFFSET))
    fs.writeFileSync(path.join(dir, 'wal_000001.log'), seg)
    // The old resync took 46 s for 1 MiB of the first pattern (hours for 16 MiB); this takes about 2 s of CPU, more on a loaded machine.
    const limit = {timeoutMs: 60_000}
    const v = walctl(['verify', dir, '--json'], limit)
    t.is(v.code, 1, v.stderr)
    const report = JSON.parse(v.stdout) as {records: number; problems: Array<{kind: string; offset: number}>}
    t.is(report.records, 0)
    t.is(report.problems.length, 1)
    t.is(report.problems[0].offset, FIRST_RECORD_OFFSET)
    const d = walctl(['dump', dir, '--format', 'jsonl'], limit)
    t.is(d.code, 0, d.stderr)
    const lines = jsonl(d.stdout)
    t.is(lines.length, 1)
    t.is(lines[0].offset, FIRST_RECORD_OFFSET)
    const r = walctl(['recover', dir, '--dry-run', '--json'], limit)
    t.is(JSON.parse(r.stdout).records.before, 0, r.stderr)
  })
}

/** Peak RSS of a child, in KiB, through /usr/bin/time. */
function peakKiB(args: string[]): {code: number; stdout: string; kib: number} {
  const r = spawnSync('/usr/bin/time', ['-f', 'peak %M', process.execPath, BIN, ...args], {env: {...process.env, NO_COLOR: '1'}, timeout: 120_000, maxBuffer: 1 << 26})
  const m = /peak (\d+)/.exec(r.stderr.toString())
  return {code: r.status ?? -1, stdout: r.stdout.toString(), kib: m ? Number(m[1]) : Infinity}
}

test('a 3 GiB sparse segment beside normal ones: verify gives a verdict and dump every good record, in bounded memory', (t) => {
  const dir = smallWal()
  const big = path.join(dir, 'wal_000004.log')
  fs.writeFileSync(big, encodeHeader(CREATED_US))
  fs.truncateSync(big, 3 * 1024 * MiB)
  t.teardown(() => fs.rmSync(big, {force: true}))
  const v = peakKiB(['verify', dir, '--json'])
  t.is(v.code, 1)
  const report = JSON.parse(v.stdout) as {records: number; segments: unknown[]; problems: Array<{kind: string; file: string}>}
  t.is(report.records, 20)
  t.is(report.segments.length, 4)
  t.deepEqual(report.problems.map((p) => [p.kind, path.basename(p.file)]), [['size-mismatch', 'wal_000004.log']])
  // Reading it whole took over 3 GB (and failed past 2 GiB); Node alone is about 60 MB.
  t.true(v.kib < 160 * 1024, `verify peak RSS ${v.kib} KiB`)
  const d = peakKiB(['dump', dir, '--format', 'jsonl'])
  t.is(d.code, 0)
  const lines = jsonl(d.stdout)
  t.is(lines.filter((l) => l.valid === true).length, 20)
  t.true(d.kib < 160 * 1024, `dump peak RSS ${d.kib} KiB`)
})

test('a gap of millions of ids is one problem naming the range and its count', (t) => {
  const dir = smallWal()
  fs.copyFileSync(path.join(dir, 'wal_000003.log'), path.join(dir, 'wal_9999999.log'))
  const v = walctl(['verify', dir, '--json'], {timeoutMs: 20_000})
  t.is(v.code, 2)
  const missing = (JSON.parse(v.stdout) as {problems: Array<Record<string, unknown>>}).problems.filter((p) => p.kind === 'missing-segment')
  t.is(missing.length, 1)
  t.like(missing[0], {segment: 4, last: 9_999_998, count: 9_999_995, severity: 'damaged'})
  t.regex(missing[0].message as string, /^missing wal_000004\.log\.\.wal_9999998\.log \(9999995 segments\)/)
  const human = walctl(['verify', dir])
  t.is(human.stdout.split('\n').filter((l) => l.includes('missing')).length, 1, human.stdout)
})

test('a file that is not a WAL segment is one problem, "not a WAL segment"', (t) => {
  const file = path.join(tempDir(), 'README.md')
  fs.writeFileSync(file, '# walctl\n\nA CLI for write-ahead logs, with a long enough text to fill a header and more.\n'.repeat(20))
  const v = walctl(['verify', file, '--json'])
  t.is(v.code, 2)
  const problems = (JSON.parse(v.stdout) as {problems: Array<{kind: string; message: string}>}).problems
  t.is(problems.length, 1, JSON.stringify(problems))
  t.is(problems[0].kind, 'bad-magic')
  t.regex(problems[0].message, /^not a WAL segment/)
  const d = walctl(['dump', file, '--format', 'jsonl'])
  t.deepEqual(jsonl(d.stdout).map((l) => l.kind), ['bad-magic'])
})

test('an unreadable later segment: dump prints the others\' records, reports it in the stream and on stderr, exit 66; verify gives a verdict', (t) => {
  const dir = smallWal()
  fs.chmodSync(path.dirname(path.dirname(dir)), 0o755)
  fs.chmodSync(path.dirname(dir), 0o755)
  fs.chmodSync(dir, 0o755)
  const seg = path.join(dir, 'wal_000002.log')
  fs.chmodSync(seg, 0o000)
  t.teardown(() => fs.chmodSync(seg, 0o644))
  const home = tempDir()
  fs.chmodSync(home, 0o777)
  // Root reads any file: run as nobody.
  const as = process.getuid?.() === 0 ? {uid: 65534, env: {HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home}} : {}
  const d = walctl(['dump', dir, '--format', 'jsonl'], as)
  t.is(d.code, 66, d.stderr)
  const lines = jsonl(d.stdout)
  t.is(lines.filter((l) => l.valid === true).length, 12)
  t.like(lines.find((l) => l.kind === 'unreadable-segment'), {segment: 2, severity: 'damaged'})
  const errors = d.stderr.split('\n').filter((l) => l.startsWith('walctl:'))
  t.is(errors.length, 1, d.stderr)
  t.regex(errors[0], /wal_000002\.log.*permission denied/)
  const v = walctl(['verify', dir, '--json'], as)
  t.is(v.code, 2, v.stderr)
  const report = JSON.parse(v.stdout) as {verdict: string; records: number; problems: Array<{kind: string; segment: number}>}
  t.is(report.verdict, 'damaged')
  t.is(report.records, 12)
  t.deepEqual(report.problems.map((p) => [p.kind, p.segment]), [['unreadable-segment', 2]])
})

test('a directory named like a segment does not stop the dump of the segments around it', (t) => {
  const dir = smallWal()
  fs.rmSync(path.join(dir, 'wal_000002.log'))
  fs.mkdirSync(path.join(dir, 'wal_000002.log'))
  const d = walctl(['dump', dir, '--format', 'jsonl'])
  t.not(d.code, 70, d.stderr)
  t.is(jsonl(d.stdout).filter((l) => l.valid === true).length, 12)
})

test('a record-shaped fragment inside a record whose length was damaged is not reported, dumped or salvaged as a record', (t) => {
  const dir = path.join(tempDir(), 'wal')
  const m = WalManager.init(dir, {segmentSize: 4096, createdAtUs: CREATED_US})
  const inner = Buffer.from('a fragment that looks like a record')
  const fragment = Buffer.alloc(8 + inner.length)
  fragment.writeUInt32LE(inner.length, 0)
  fragment.writeUInt32LE(crc32(inner), 4)
  inner.copy(fragment, 8)
  m.append(Buffer.concat([Buffer.from('head'), fragment, Buffer.alloc(16, 0xee)]))
  for (let i = 0; i < 3; i++) m.append(Buffer.from(`record-${i}`))
  m.close()
  const seg = path.join(dir, 'wal_000001.log')
  const bytes = fs.readFileSync(seg)
  // The first record's length now ends it at the fragment (offset 101).
  bytes.writeUInt32LE(4, FIRST_RECORD_OFFSET)
  fs.writeFileSync(seg, bytes)
  const d = jsonl(walctl(['dump', dir, '--format', 'jsonl']).stdout)
  const offsets = d.filter((l) => l.valid === true).map((l) => l.offset as number)
  t.false(offsets.includes(FIRST_RECORD_OFFSET + 12), JSON.stringify(d))
  t.is(offsets.length, 3)
  t.true(d.filter((l) => l.valid === true).every((l) => l.resynced === true))
  const plan = JSON.parse(walctl(['recover', dir, '--mode', 'salvage', '--dry-run', '--json']).stdout) as {records: {kept: number}}
  t.is(plan.records.kept, 3)
})
