// dump from the operator's chair (issue 12): no silent empty answer, no lost
// byte in any encoding, counts of what was shown beside what there is,
// --damaged-only showing only damaged segments, no flag silently ignored, and
// the forensic filters --since/--until, --op and --stats by operation. All
// through bin/run.js on real files. The built WAL: 20 records of 40 bytes,
// 0-7 in segment 1, 8-15 in 2, 16-19 in 3 (ending at 281), record 10's
// payload flipped so that 2:185..233 is damaged.
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {buildWal, CREATED_US, flipByte, recordOffset, segPath, u64le, writeBytes} from './helpers/corrupt.js'
import {BIN, CliResult, ROOT, walctlAsync} from './helpers/cli.js'
import {copyFixture, fixtureDir, loadManifest, snapshot, tempDir} from './helpers/fixtures.js'
import {checkShape, parseTypes} from './helpers/json-shape.js'

const types = parseTypes(fs.readFileSync(path.join(ROOT, 'docs', 'JSON.md'), 'utf8'))

function conforms(t: ExecutionContext, value: unknown, type: string): void {
  t.deepEqual(checkShape(value, types.get(type)!, types), [], `conforms to ${type}`)
}

function damagedWal(): string {
  const w = buildWal()
  flipByte(segPath(w, 2), recordOffset(w, 10) + 8 + 5)
  return w.dir
}

const dump = (dir: string, ...args: string[]): Promise<CliResult> => walctlAsync(['dump', dir, ...args])

/** A refusal: the exit code, nothing on stdout, one line on stderr matching `line`. */
function refused(t: ExecutionContext, r: CliResult, code: number, line: RegExp): void {
  t.is(r.code, code, r.stderr)
  t.is(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  t.is(lines.length, 1, r.stderr)
  t.regex(lines[0], line)
}

const jsonl = (r: CliResult): Array<Record<string, unknown>> => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)

test('a filter naming what is not there: exit 66, one line saying what there is', async (t) => {
  const dir = damagedWal()
  const before = snapshot(dir)
  const [segment, from, offset, free, header, json] = await Promise.all([
    dump(dir, '--segment', '9'),
    dump(dir, '--from', '9:0'),
    dump(dir, '-s', '2', '--offset', '9999'),
    dump(dir, '-s', '3', '--offset', '400', '--format', 'raw'),
    dump(dir, '-s', '3', '--offset', '10', '--format', 'table'),
    dump(dir, '--segment', '9', '--json'),
  ])
  refused(t, segment, 66, /: no segment 9: the WAL has wal_000001\.log\.\.wal_000003\.log$/)
  refused(t, from, 66, /: no segment 9 \(--from 9:0\): the WAL has wal_000001\.log\.\.wal_000003\.log$/)
  refused(t, offset, 66, /wal_000002\.log: --offset 9999 is past the end of wal_000002\.log \(512 bytes\)$/)
  refused(t, free, 66, /wal_000003\.log: offset 400: no record or damaged region holds it: the records end at 281, and 281\.\.512 is unwritten$/)
  refused(t, header, 66, /wal_000003\.log: offset 10: in the segment header \(0\.\.89\)/)
  t.is(json.code, 66)
  t.deepEqual(JSON.parse(json.stdout), {error: {message: `${dir}: no segment 9: the WAL has wal_000001.log..wal_000003.log`, exitCode: 66, file: dir}})
  t.deepEqual(snapshot(dir), before)
})

test('a gap in the ids is named; a position past the end, a lone file and a window that selects nothing are refused', async (t) => {
  const dir = damagedWal()
  const lone = path.join(tempDir(), 'wal_000042.log')
  fs.copyFileSync(segPath(dir, 3), lone)
  fs.rmSync(segPath(dir, 2))
  const [gap, empty, past, file] = await Promise.all([
    dump(dir, '-s', '2'),
    dump(dir, '-s', '1', '--from', '3:89'),
    dump(dir, '--from', '1:9999'),
    dump(lone, '--segment', '3'),
  ])
  refused(t, gap, 66, /no segment 2: the WAL has wal_000001\.log, wal_000003\.log$/)
  refused(t, empty, 66, /the filters select no segment: the WAL has/)
  refused(t, past, 66, /--from 1:9999 is past the end of wal_000001\.log \(512 bytes\)/)
  refused(t, file, 66, /no segment 3: .*wal_000042\.log is segment 42$/)
})

test('--offset inside a damaged region selects it: raw writes its bytes, the others show its range and reason', async (t) => {
  const dir = damagedWal()
  const [raw, lines, table, hex] = await Promise.all([
    dump(dir, '-s', '2', '--offset', '200', '--format', 'raw'),
    dump(dir, '-s', '2', '--offset', '200', '--format', 'jsonl'),
    dump(dir, '-s', '2', '--offset', '200', '--format', 'table'),
    dump(dir, '-s', '2', '--offset', '200', '--format', 'hex'),
  ])
  t.is(raw.code, 0, raw.stderr)
  t.true(raw.out.equals(fs.readFileSync(segPath(dir, 2)).subarray(185, 233)), 'the damaged bytes 185..233, exactly')
  t.deepEqual(jsonl(lines).map(({offset, end, kind}) => ({offset, end, kind})), [{offset: 185, end: 233, kind: 'crc-mismatch'}])
  t.regex(String(jsonl(lines)[0].message), /stored crc32 \w{8}, computed \w{8}/)
  t.regex(table.stdout, /^2:185\.\.233\s+48\s+\w{8}\s+\w{8}\s+crc-mismatch\s+record of 40 bytes/m)
  t.regex(hex.stdout, /^damage 2:185\.\.233 crc-mismatch \(damaged\): record of 40 bytes/m)
  // A record's offset still extracts its payload.
  const record = await dump(dir, '-s', '2', '--offset', '240', '--format', 'raw')
  t.is(record.out.toString(), 'record-0011:llllllllllllllllllllllllllll')
})

test('--encoding utf8: a payload that is not UTF-8 is written in hex and says so; never U+FFFD, in JSON or the table', async (t) => {
  const dir = path.join(tempDir(), 'wal')
  const m = WalManager.init(dir, {segmentSize: 4096})
  m.append(Buffer.from('deadbeef', 'hex'))
  m.append(Buffer.from('héllo ✓'))
  m.close()
  const [utf8, json, table, base64, auto] = await Promise.all([
    dump(dir, '--format', 'jsonl', '--encoding', 'utf8'),
    dump(dir, '--json', '--encoding', 'utf8'),
    dump(dir, '--format', 'table', '--encoding', 'utf8'),
    dump(dir, '--format', 'table', '--encoding', 'base64'),
    dump(dir, '--format', 'table'),
  ])
  t.deepEqual(jsonl(utf8).map(({data, encoding}) => ({data, encoding})), [{data: 'deadbeef', encoding: 'hex'}, {data: 'héllo ✓', encoding: 'utf8'}])
  const doc = JSON.parse(json.stdout) as {segments: Array<{entries: Array<{data: string; encoding: string}>}>}
  t.deepEqual(doc.segments[0].entries.map((e) => e.encoding), ['hex', 'utf8'])
  for (const r of [utf8, json, table, base64, auto]) {
    t.is(r.code, 0, r.stderr)
    t.false(r.stdout.includes('\uFFFD'), 'no replacement character')
  }
  t.regex(table.stdout, /^1:89\s+4\s+.*hex:deadbeef$/m)
  t.regex(table.stdout, /^1:101\s+10\s+.*"héllo ✓"$/m)
  t.regex(base64.stdout, /^1:89\s+4\s+.*base64:3q2\+7w==$/m)
  t.regex(auto.stdout, /^1:89\s+4\s+.*hex:deadbeef$/m)
})

test('counts: what was shown of what the selection holds, per segment and in total', async (t) => {
  const dir = damagedWal()
  const [limited, window, json] = await Promise.all([
    dump(dir, '-s', '1', '--limit', '3', '--format', 'table'),
    dump(dir, '--from', '1:137', '--to', '1:233', '--format', 'table'),
    dump(dir, '--limit', '10', '--json'),
  ])
  const rows = (r: CliResult): string[] => r.stdout.split('\n').filter((l) => /^\d+:\d+/.test(l))
  t.deepEqual(rows(limited).map((l) => l.split(' ')[0]), ['1:89', '1:137', '1:185'])
  t.regex(limited.stdout, /^3 of 8 record\(s\), 0 damaged region\(s\) shown \(--limit 3\), in 1 segment\(s\): clean$/m)
  t.regex(limited.stdout, /^3 of 8 selected record\(s\) shown; segment: 8 record\(s\)/m)
  t.deepEqual(rows(window).map((l) => l.split(' ')[0]), ['1:137', '1:185', '1:233'])
  t.regex(window.stdout, /^3 record\(s\) shown; segment up to --to 1:233: /m)
  t.regex(window.stdout, /^3 record\(s\), 0 damaged region\(s\) shown, in 1 segment\(s\): clean$/m)
  t.notRegex(window.stdout, /^8 record\(s\)/m, 'no count of the whole segment passed off as the window')
  const doc = JSON.parse(json.stdout) as {segments: Array<{id: number; summary: {shown: {records: number}; matched: {records: number}}}>; summary: Record<string, unknown>}
  t.like(doc.summary, {segments: 2, records: 10, damaged: 0, stopped: true, limited: true, matched: {segments: 3, records: 19, damaged: 1}})
  t.deepEqual(doc.segments.map((s) => [s.id, s.summary.shown.records, s.summary.matched.records]), [[1, 8, 8], [2, 2, 7]])
  conforms(t, doc, 'Dump')
})

test('--damaged-only shows only the damaged segments, in every format', async (t) => {
  const dir = damagedWal()
  const [table, hex, json] = await Promise.all([
    dump(dir, '--damaged-only', '--format', 'table'),
    dump(dir, '--damaged-only', '--format', 'hex'),
    dump(dir, '--damaged-only', '--json'),
  ])
  t.deepEqual(table.stdout.split('\n').filter((l) => /^wal_\d+\.log {2}segment/.test(l)).map((l) => l.split(' ')[0]), ['wal_000002.log'])
  t.is(table.stdout.split('\n').filter((l) => l.startsWith('│ magic ')).length, 1)
  t.regex(table.stdout, /^0 record\(s\), 1 damaged region\(s\) shown, in 1 of 3 segment\(s\): damaged$/m)
  t.deepEqual(hex.stdout.split('\n').filter((l) => l.startsWith('# wal_')).map((l) => l.split(':')[0]), ['# wal_000002.log'])
  const doc = JSON.parse(json.stdout) as {segments: Array<{id: number}>}
  t.deepEqual(doc.segments.map((s) => s.id), [2])
  conforms(t, doc, 'Dump')
})

test('nothing matched is said on stderr, exit 0, stdout empty', async (t) => {
  const w = buildWal()
  const r = await dump(w.dir, '--damaged-only', '--format', 'jsonl')
  t.is(r.code, 0)
  t.is(r.stdout, '')
  t.regex(r.stderr, /^walctl: .*: nothing to show: no record or damaged region matches the filters in the 3 segment\(s\) read\n$/)
  const empty = await dump(fixtureDir('empty'), '--format', 'raw')
  t.is(empty.code, 0)
  t.is(empty.out.length, 0)
  t.regex(empty.stderr, /^walctl: .*: nothing to show: the 1 segment\(s\) hold no record and no damage\n$/)
})

test('no flag silently ignored: each combination without effect is a usage error naming both', async (t) => {
  const dir = fixtureDir('small')
  const cases: Array<[string[], RegExp]> = [
    [['--context', '8', '--format', 'jsonl'], /--context .* no effect with --format jsonl/],
    [['--context', '8', '--format', 'table'], /--context .* no effect with --format table/],
    [['--context', '8'], /--context .* no effect with --format jsonl/], // piped: jsonl by default
    [['--json', '--format', 'table'], /--json .* cannot be combined with --format table/],
    [['--json', '--format', 'raw'], /--json .* cannot be combined with --format raw/],
    [['--encoding', 'utf8', '--format', 'raw'], /--encoding .* no effect with --format raw/],
    [['--encoding', 'base64', '--format', 'hex'], /--encoding .* no effect with --format hex/],
    [['--stats', '--format', 'hex'], /--stats .* cannot be combined with --format hex/],
    [['--stats', '--encoding', 'utf8'], /--encoding .* no effect with --stats/],
    [['--decode', 'shardex', '--format', 'raw'], /--decode shardex has no effect with --format raw/],
    [['--interval', '1s'], /--interval .* needs --follow/],
    [['--op', 'add-posting'], /--op .* add --decode shardex/],
    [['--decode', 'shardex', '--op', 'add-posting', '--damaged-only'], /--op .* --damaged-only/],
    [['--follow', '--until', '1h'], /--follow .* --until/],
    [['--since', 'yesterday'], /invalid time 'yesterday' for --since/],
    [['--from', '1:300', '--to', '1:100'], /--from 1:300 is after --to 1:100/],
  ]
  const runs = await Promise.all(cases.map(([args]) => dump(dir, ...args)))
  runs.forEach((r, i) => {
    t.is(r.code, 64, `${cases[i][0].join(' ')}: ${r.stderr}`)
    // Under --json the error is the one document on stdout.
    const message = cases[i][0].includes('--json') ? (JSON.parse(r.stdout) as {error: {message: string}}).error.message : r.stderr
    t.is(message.trimEnd().split('\n').length, 1, message)
    t.regex(message, cases[i][1])
  })
  // What remains allowed: --context with hex, --encoding with table, --json with --format json, and jsonl, where --json wins.
  const ok = await Promise.all([['--context', '8', '--format', 'hex'], ['--encoding', 'base64', '--format', 'table'], ['--json', '--format', 'json'], ['--json', '--format', 'jsonl']].map((a) => dump(dir, ...a)))
  for (const r of ok) t.is(r.code, 0, r.stderr)
  t.deepEqual(JSON.parse(ok[3].stdout), JSON.parse(ok[2].stdout), '--json wins over --format jsonl: one document')
})

test('--since/--until select segments by their header timestamps', async (t) => {
  const w = buildWal()
  const hour = 3_600_000_000n
  // Segment s created at CREATED_US + (s - 1) hours; Shardex never updates modified_at.
  for (const s of [1, 2, 3]) {
    writeBytes(segPath(w, s), 32, u64le(CREATED_US + BigInt(s - 1) * hour))
    writeBytes(segPath(w, s), 40, u64le(CREATED_US + BigInt(s - 1) * hour))
  }
  const iso = (us: bigint): string => new Date(Number(us / 1000n)).toISOString()
  const segments = (r: CliResult): number[] => [...new Set(jsonl(r).map((l) => l.segment as number))]
  const [late, early, one, none, bad] = await Promise.all([
    dump(w.dir, '--since', iso(CREATED_US + hour + hour / 2n)),
    dump(w.dir, '--until', iso(CREATED_US + hour / 2n)),
    dump(w.dir, '--since', iso(CREATED_US + hour), '--until', iso(CREATED_US + hour + 1n)),
    dump(w.dir, '--until', iso(CREATED_US - hour)),
    dump(w.dir, '-s', '1', '--since', iso(CREATED_US + 2n * hour)),
  ])
  t.deepEqual(segments(late), [2, 3], 'segment 2 holds records written until segment 3 was created')
  t.deepEqual(segments(early), [1])
  t.deepEqual(segments(one), [2])
  t.is(jsonl(one).length, 8)
  refused(t, none, 66, /no selected segment holds records written in \.\.2025-12-31T23:00:00\.000Z: the WAL has wal_000001\.log\.\.wal_000003\.log$/)
  refused(t, bad, 66, /no selected segment holds records written in 2026-01-01T02:00:00\.000Z\.\./)
})

test('--decode shardex --op filters by operation; --stats breaks counts and bytes down by operation', async (t) => {
  const dir = copyFixture('transactions')
  const manifest = loadManifest('transactions').records
  const opsOf = (i: number): string[] => ((manifest[i].transaction as {operations: Array<{op: string}>}).operations).map((o) => o.op)
  const [removes, texts, stats, table] = await Promise.all([
    dump(dir, '--decode', 'shardex', '--op', 'remove-document', '--format', 'jsonl'),
    dump(dir, '--decode', 'shardex', '--op', 'store-document-text,delete-document-text', '--format', 'jsonl'),
    dump(dir, '--decode', 'shardex', '--stats', '--json'),
    dump(dir, '--decode', 'shardex', '--stats', '--format', 'table'),
  ])
  const offsets = (pred: (ops: string[]) => boolean): number[] => manifest.filter((_, i) => pred(opsOf(i))).map((r) => r.record_offset)
  t.deepEqual(jsonl(removes).map((l) => l.offset), offsets((o) => o.includes('RemoveDocument')))
  t.deepEqual(jsonl(texts).map((l) => l.offset), offsets((o) => o.includes('StoreDocumentText') || o.includes('DeleteDocumentText')))
  t.true(jsonl(removes).length > 0 && jsonl(removes).length < manifest.length)
  const s = JSON.parse(stats.stdout) as {operations: {operations: Array<{op: string; count: number; transactions: number; bytes: number}>; transactions: number; framingBytes: number; recordHeaderBytes: number; totalBytes: number; undecoded: {records: number; bytes: number}}}
  conforms(t, s, 'DumpStats')
  const o = s.operations
  for (const row of o.operations) {
    t.is(row.count, manifest.flatMap((_, i) => opsOf(i)).filter((op) => op === row.op).length, row.op)
    t.is(row.transactions, manifest.filter((_, i) => opsOf(i).includes(row.op)).length, row.op)
  }
  // The oracle: Shardex's own bincode of each transaction's operations, less its 8-byte count.
  const opBytes = manifest.reduce((n, r) => n + (r.transaction as {operations_bincode_hex: string}).operations_bincode_hex.length / 2 - 8, 0)
  t.is(o.operations.reduce((n, r) => n + r.bytes, 0), opBytes)
  t.is(o.totalBytes, manifest.reduce((n, r) => n + 8 + r.length, 0))
  t.is(o.totalBytes, opBytes + o.framingBytes + o.recordHeaderBytes + o.undecoded.bytes)
  t.regex(table.stdout, /^│ AddPosting +│ +3 │ +37\.5% │ +2 │/m)
  t.regex(table.stdout, /^│ total +│ +8 │/m)
})

test('--follow may name a segment still to come: it waits for it instead of refusing', async (t) => {
  const dir = path.join(tempDir(), 'wal')
  const m = WalManager.init(dir, {segmentSize: 1024})
  m.append(Buffer.from('in segment 1'))
  m.close()
  const child = spawn(process.execPath, [BIN, 'dump', dir, '--follow', '--from', '2:0', '--format', 'jsonl', '--interval', '50ms'], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // Without --follow the same filter is refused: segment 2 is not there yet.
  refused(t, await dump(dir, '--from', '2:0'), 66, /no segment 2 \(--from 2:0\): the WAL has wal_000001\.log$/)
  // Give the follower time to start and find nothing (ordering only: the test passes either way it runs).
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.is(child.exitCode, null, 'still following')
  const m2 = WalManager.open(dir)
  m2.rotate()
  m2.append(Buffer.from('in segment 2'))
  m2.close()
  const deadline = Date.now() + 60_000
  while (!out.includes('\n') && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100))
  child.kill('SIGINT')
  t.is(await exit, 130, 'ended by SIGINT: 128 + 2')
  t.deepEqual(jsonl({out: Buffer.from(out), stdout: out, stderr: '', code: 0}).map((l) => [l.segment, Buffer.from(String(l.data), 'hex').toString()]), [[2, 'in segment 2']])
})
