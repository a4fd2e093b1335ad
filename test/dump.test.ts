// walctl dump on the Shardex fixtures: every format, the filters, --stats,
// read-only proven, a segment file on its own, and a closed pipe.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {BIN, walctl, walctlAsync} from './helpers/cli.js'
import {Chalk} from 'chalk'
import {makeRenderer} from '../src/cli/dump/make.js'
import {Output} from '../src/cli/dump/output.js'
import {DumpFormat} from '../src/cli/dump/renderer.js'
import {SegmentBytes} from '../src/core/dump/segment-bytes.js'
import {dumpWal, resolveDumpTarget} from '../src/core/dump/walk.js'
import {copyFixture, FIXTURE_FAMILIES, FIXTURE_SETS, fixtureDir, FixtureSet, loadManifest, snapshot, tempDir} from './helpers/fixtures.js'

interface Line {
  segment: number
  offset: number
  length: number
  crc32: string
  valid: boolean
  resynced: boolean
  data: string
}

const jsonl = (stdout: string): Line[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line)
const manifestRecords = (set: FixtureSet) => loadManifest(set).records

/** Renders a dump in this process (no CLI start-up) through the command's own renderers, into a file. */
function renderIn(dir: string, format: DumpFormat): Buffer {
  const file = path.join(tempDir(), `out.${format}`)
  const fd = fs.openSync(file, 'w')
  const bytes = new SegmentBytes()
  const out = new Output(fd)
  const renderer = makeRenderer(format, {out, bytes, encoding: 'hex', context: 0, chalk: new Chalk({level: 0}), width: 120})
  const target = resolveDumpTarget(dir)
  renderer.begin(target)
  renderer.end(dumpWal(target, {}, renderer))
  out.flush()
  fs.closeSync(fd)
  bytes.close()
  return fs.readFileSync(file)
}

for (const family of FIXTURE_FAMILIES) {
  for (const set of FIXTURE_SETS) {
    test(`every format lists every record of ${family}/${set}`, (t) => {
      const dir = fixtureDir(set, family)
      const manifest = loadManifest(set, family)
      const positions = manifest.records.map((r) => `${r.segment_id}:${r.record_offset}`)
      const doc = JSON.parse(renderIn(dir, 'json').toString()) as {segments: Array<{id: number; header: {magic: string; version: number; createdAtUs: number; padding12Hex: string; padding28Hex: string}; entries: Line[]}>; problems: unknown[]; summary: {records: number; verdict: string}}
      t.deepEqual(doc.segments.map((s) => s.id), manifest.segments.map((s) => s.id))
      t.deepEqual(doc.segments.map((s) => [s.header.createdAtUs, s.header.padding12Hex, s.header.padding28Hex]), manifest.segments.map((s) => [s.header.created_at_us, s.header.padding_12_16_hex, s.header.padding_28_32_hex]))
      t.true(doc.segments.every((s) => s.header.magic === 'WLOG' && s.header.version === 1))
      t.deepEqual(doc.segments.flatMap((s) => s.entries).map((e) => [e.segment, e.offset, e.length, e.crc32, e.data]), manifest.records.map((m) => [m.segment_id, m.record_offset, m.length, m.crc32, m.hex]))
      t.is(doc.summary.records, manifest.records.length)
      t.deepEqual(doc.problems, [])
      t.true(renderIn(dir, 'raw').equals(Buffer.concat(manifest.records.map((m) => Buffer.from(m.hex, 'hex')))), 'raw is the payloads back to back')
      t.deepEqual(jsonl(renderIn(dir, 'jsonl').toString()).map((l) => `${l.segment}:${l.offset}`), positions)
      const hex = renderIn(dir, 'hex').toString().split('\n')
      t.deepEqual(hex.filter((l) => l.startsWith('record ')).map((l) => l.split(' ')[1]), positions)
      const table = renderIn(dir, 'table').toString().split('\n')
      t.deepEqual(table.filter((l) => /^\d+:\d+ /.test(l)).map((l) => l.split(' ')[0]), positions)
      t.is(table.filter((l) => l.startsWith('│ magic ')).length, manifest.segments.length)
    })
  }
}

test('CLI: json is one document and raw the payloads, through bin/run.js', async (t) => {
  const [json, raw] = await Promise.all([
    walctlAsync(['dump', fixtureDir('rotation'), '--format', 'json']),
    walctlAsync(['dump', fixtureDir('rotation'), '--format', 'raw']),
  ])
  t.is(json.code, 0, json.stderr)
  const doc = JSON.parse(json.stdout) as {segments: Array<{entries: Line[]}>; summary: {records: number; verdict: string}}
  t.is(doc.summary.records, manifestRecords('rotation').length)
  t.is(doc.summary.verdict, 'clean')
  t.is(doc.segments.length, 5)
  t.true(raw.out.equals(Buffer.concat(manifestRecords('rotation').map((m) => Buffer.from(m.hex, 'hex')))))
})

test('hex: a canonical hexdump of the header and of each record at absolute offsets', async (t) => {
  const r = await walctlAsync(['dump', fixtureDir('small'), '--format', 'hex'])
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.split('\n')
  t.is(lines[2], '00000000  57 4c 4f 47 01 00 00 00  50 00 00 00 00 00 00 00  |WLOG....P.......|')
  const first = manifestRecords('small')[0]
  const at = lines.indexOf(`record 1:89 length 1 crc32 ${first.crc32} ok`)
  t.true(at > 0, r.stdout.slice(0, 2000))
  const head = Buffer.alloc(8)
  head.writeUInt32LE(1, 0)
  head.writeUInt32LE(Number.parseInt(first.crc32, 16), 4)
  const hex = [...head].map((b) => b.toString(16).padStart(2, '0'))
  t.is(lines[at + 1], `00000059  ${hex.join(' ')}  41${' '.repeat(23)}|${[...head].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')}A|`)
  t.is(lines.filter((l) => l.startsWith('record ')).length, manifestRecords('small').length)
})

test('table: the header field by field and a row per record with both CRCs and a preview', async (t) => {
  const r = await walctlAsync(['dump', fixtureDir('small'), '--format', 'table'], {env: {COLUMNS: '100'}})
  t.is(r.code, 0, r.stderr)
  for (const field of ['magic', 'version', 'header_size', 'padding', 'data_offset', 'checksum', 'created_at', 'modified_at', 'reserved', 'wal reserved']) t.regex(r.stdout, new RegExp(`│ ${field} `))
  t.regex(r.stdout, /│ magic\s+│ 0\.\.4\s+│ 574c4f47\s+│ "WLOG"\s+│ ok/)
  t.regex(r.stdout, /POSITION\s+LENGTH\s+CRC\s+COMPUTED\s+STATUS\s+PAYLOAD/)
  const m = manifestRecords('small')
  t.regex(r.stdout, new RegExp(`1:113\\s+43\\s+${m[2].crc32}\\s+${m[2].crc32}\\s+ok\\s+"The quick brown fox`))
  // A binary payload is shown in hex, named, cut to the terminal width.
  const row = r.stdout.split('\n').find((l) => l.startsWith('1:181 '))!
  t.regex(row, /ok\s+hex:[0-9a-f]+…$/)
  t.true([...row].length <= 100, row)
  t.regex(r.stdout, new RegExp(`^${m.length} record\\(s\\), 0 damaged region\\(s\\) shown, in 1 segment\\(s\\): clean$`, 'm'))
})

test('garbage padding is shown, not flagged', async (t) => {
  const r = await walctlAsync(['dump', fixtureDir('small', 'shardex-garbage-padding'), '--format', 'table'])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /│ padding\s+│ 28\.\.32\s+│ [0-9a-f]{8}\s+│ garbage \(Shardex leaves it uninitialised\)\s+│ not checked/)
})

test('default format: jsonl when piped, table at a terminal (script(1) gives a tty)', async (t) => {
  const piped = await walctlAsync(['dump', fixtureDir('small')])
  t.deepEqual(jsonl(piped.stdout).map((l) => l.offset), manifestRecords('small').map((m) => m.record_offset))
  const script = spawnSync('script', ['-qec', `${process.execPath} ${BIN} dump ${fixtureDir('small')}`, '/dev/null'], {env: {...process.env, NO_COLOR: '1', COLUMNS: '120'}, encoding: 'utf8'})
  if (script.error) return t.fail(`script(1) is needed for a tty: ${script.error.message}`)
  t.regex(script.stdout, /POSITION\s+LENGTH/)
  t.false(script.stdout.includes('\u001b['), 'NO_COLOR at a terminal: no colour')
  const coloured = spawnSync('script', ['-qec', `${process.execPath} ${BIN} dump ${fixtureDir('small')}`, '/dev/null'], {env: {...process.env, NO_COLOR: '', FORCE_COLOR: '1'}, encoding: 'utf8'})
  t.true(coloured.stdout.includes('\u001b['), 'colour at a terminal')
  const off = spawnSync('script', ['-qec', `${process.execPath} ${BIN} dump ${fixtureDir('small')} --no-color`, '/dev/null'], {env: {...process.env, NO_COLOR: '', FORCE_COLOR: ''}, encoding: 'utf8'})
  t.regex(off.stdout, /POSITION/)
  t.false(off.stdout.includes('\u001b['), '--no-color')
})

test('--encoding base64 and utf8 for data', async (t) => {
  const m = manifestRecords('small')
  const b64 = jsonl((await walctlAsync(['dump', fixtureDir('small'), '--format', 'jsonl', '--encoding', 'base64'])).stdout)
  t.deepEqual(b64.map((l) => l.data), m.map((r) => Buffer.from(r.hex, 'hex').toString('base64')))
  const utf8 = jsonl((await walctlAsync(['dump', fixtureDir('small'), '--format', 'jsonl', '--encoding', 'utf8'])).stdout)
  t.is(utf8[6].data, 'héllo wörld ✓')
  t.is(utf8[2].data, 'The quick brown fox jumps over the lazy dog')
})

test('filters: --from/--to, --segment (repeatable), --limit, --offset', async (t) => {
  const dir = fixtureDir('rotation')
  const all = manifestRecords('rotation')
  const key = (l: {segment?: number; segment_id?: number; offset?: number; record_offset?: number}) => `${l.segment ?? l.segment_id}:${l.record_offset ?? l.offset}`
  const from = all[7]
  const to = all[20]
  const [ranged, segs, limited, atOffset, inside, badPos] = await Promise.all([
    walctlAsync(['dump', dir, '--format', 'jsonl', '--from', key(from), '--to', key(to)]),
    walctlAsync(['dump', dir, '--format', 'jsonl', '--segment', '2', '--segment', '4']),
    walctlAsync(['dump', dir, '--format', 'jsonl', '--limit', '3', '--from', '2:89']),
    walctlAsync(['dump', dir, '--format', 'raw', '--segment', '3', '--offset', String(all.find((r) => r.segment_id === 3 && r.record_offset > 89)!.record_offset)]),
    walctlAsync(['dump', dir, '--format', 'jsonl', '--segment', '1', '--offset', String(all[1].record_offset + 10)]),
    walctlAsync(['dump', dir, '--from', '2-89']),
  ])
  t.deepEqual(jsonl(ranged.stdout).map(key), all.slice(7, 21).map(key))
  t.deepEqual(jsonl(segs.stdout).map(key), all.filter((r) => r.segment_id === 2 || r.segment_id === 4).map(key))
  t.deepEqual(jsonl(limited.stdout).map(key), all.filter((r) => r.segment_id >= 2).slice(0, 3).map(key))
  const second3 = all.find((r) => r.segment_id === 3 && r.record_offset > 89)!
  t.true(atOffset.out.equals(Buffer.from(second3.hex, 'hex')))
  t.deepEqual(jsonl(inside.stdout).map(key), [key(all[1])], '--offset inside a record finds it')
  t.is(badPos.code, 64)
  t.regex(badPos.stderr, /invalid position '2-89' for --from/)
  const both = walctl(['dump', dir, '--valid-only', '--damaged-only'])
  t.is(both.code, 64)
})

test('--stats: per segment and total, with a power-of-two size histogram, as JSON and as a table', async (t) => {
  const [j, table] = await Promise.all([
    walctlAsync(['dump', fixtureDir('rotation'), '--stats', '--json']),
    walctlAsync(['dump', fixtureDir('rotation'), '--stats', '--format', 'table']),
  ])
  t.is(j.code, 0, j.stderr)
  const stats = JSON.parse(j.stdout) as {segments: Array<{segment: number; records: number; payloadBytes: number; fill: number; first: string; last: string; damagedBytes: number}>; total: {records: number; payloadBytes: number; histogram: Array<{min: number; max: number; records: number}>; first: string; last: string}}
  const manifest = loadManifest('rotation')
  t.deepEqual(stats.segments.map((s) => s.records), manifest.segments.map((s) => s.record_count))
  t.deepEqual(stats.segments.map((s) => s.fill), manifest.segments.map((s) => s.write_pointer / s.file_size))
  t.deepEqual(stats.segments.map((s) => s.payloadBytes), manifest.segments.map((s) => manifest.records.filter((r) => r.segment_id === s.id).reduce((n, r) => n + r.length, 0)))
  t.is(stats.total.records, manifest.records.length)
  t.is(stats.total.first, `1:89`)
  const last = manifest.records.at(-1)!
  t.is(stats.total.last, `${last.segment_id}:${last.record_offset}`)
  const expected = new Map<number, number>()
  for (const r of manifest.records) {
    const k = 2 ** Math.floor(Math.log2(r.length))
    expected.set(k, (expected.get(k) ?? 0) + 1)
  }
  t.deepEqual(stats.total.histogram.map((b) => [b.min, b.max, b.records]), [...expected].sort((a, b) => a[0] - b[0]).map(([k, n]) => [k, 2 * k - 1, n]))
  t.is(table.code, 0, table.stderr)
  t.regex(table.stdout, /total \(5\)/)
  t.regex(table.stdout, /record sizes \(power-of-two buckets\)/)
})

test('--json streams the json document (once) and errors stay JSON with their exit code', async (t) => {
  const r = await walctlAsync(['dump', fixtureDir('small'), '--json'])
  t.is(r.code, 0)
  const doc = JSON.parse(r.stdout) as {summary: {records: number}}
  t.is(doc.summary.records, manifestRecords('small').length)
  const missing = await walctlAsync(['dump', path.join(tempDir(), 'nope'), '--json'])
  t.is(missing.code, 66)
  t.is((JSON.parse(missing.stdout) as {error: {exitCode: number}}).error.exitCode, 66)
  const empty = await walctlAsync(['dump', tempDir()])
  t.is(empty.code, 66)
  t.regex(empty.stderr, /no WAL segments/)
})

test('read-only: every format leaves bytes, mtimes and the directory listing unchanged, and works as another user on a read-only copy', async (t) => {
  const root = copyFixture('rotation')
  fs.chmodSync(path.dirname(root), 0o755)
  spawnSync('chmod', ['-R', 'a-w', root])
  const before = snapshot(root)
  // table and hex re-read bytes beside the scanner; json streams the scanner's alone (as jsonl and raw do).
  const runs = await Promise.all([['--format', 'table'], ['--format', 'hex', '--context', '64'], ['--format', 'json', '--stats']].map((a) => walctlAsync(['dump', root, ...a])))
  for (const r of runs) t.is(r.code, 0, r.stderr)
  t.deepEqual(snapshot(root), before, 'no byte, mtime or file changed, no temp or lock file appeared')
  if (process.getuid?.() === 0) {
    // root ignores file modes: run as nobody, for whom any open for writing fails.
    const home = tempDir()
    fs.chmodSync(home, 0o777)
    const r = walctl(['dump', root, '--format', 'jsonl'], {uid: 65534, env: {HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home}})
    t.is(r.code, 0, r.stderr)
    t.is(jsonl(r.stdout).length, manifestRecords('rotation').length)
  }
  t.deepEqual(snapshot(root), before)
  spawnSync('chmod', ['-R', 'u+w', root])
})

test('a single segment file copied alone into another directory, under another name, dumps', async (t) => {
  const dir = tempDir()
  const file = path.join(dir, 'evidence.bin')
  fs.copyFileSync(path.join(fixtureDir('rotation'), 'wal', 'wal_000003.log'), file)
  const r = await walctlAsync(['dump', file, '--format', 'jsonl'])
  t.is(r.code, 0, r.stderr)
  const expected = manifestRecords('rotation').filter((m) => m.segment_id === 3)
  t.deepEqual(jsonl(r.stdout).map((l) => [l.offset, l.data]), expected.map((m) => [m.record_offset, m.hex]))
  const named = path.join(tempDir(), 'wal_000003.log')
  fs.copyFileSync(path.join(fixtureDir('rotation'), 'wal', 'wal_000003.log'), named)
  const n = await walctlAsync(['dump', named, '--format', 'jsonl'])
  t.true(jsonl(n.stdout).every((l) => l.segment === 3))
})

test('| head -1 exits 0 with no error message', (t) => {
  const status = path.join(tempDir(), 'status')
  // The first record of `large` is 900 KiB: far more than a pipe holds, so the dump does meet the closed pipe.
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" dump "${fixtureDir('large')}" --format jsonl | head -1 | wc -c; echo "\${PIPESTATUS[0]}" > "${status}"`], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  t.is(r.stderr, '')
  t.true(Number(r.stdout.trim()) > 900 * 1024)
  t.is(fs.readFileSync(status, 'utf8').trim(), '0')
  const hex = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" dump "${fixtureDir('large')}" --format hex | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}" > "${status}"`], {encoding: 'utf8'})
  t.is(hex.stderr, '')
  t.is(fs.readFileSync(status, 'utf8').trim(), '0')
})
