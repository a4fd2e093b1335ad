// dump reads past damage: for each named byte edit of the recovery suite
// (every case of test/corruption.test.ts, on the same built WAL: 20 records of
// 40 bytes, records 0-7 in segment 1, 8-15 in 2, 16-19 in 3), the damaged
// region is listed at its exact byte range and every valid record is listed,
// those after the damage marked as found by resync.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from 'crc'
import {dumpWal, DumpDamage, resolveDumpTarget} from '../src/core/dump/walk.js'
import {DumpFilter} from '../src/core/dump/filters.js'
import {BuiltWal, buildWal, CREATED_US, flipByte, payloadFor, recordOffset, segPath, u32le, u64le, writeBytes, zeroRange} from './helpers/corrupt.js'
import {walctlAsync} from './helpers/cli.js'
import {snapshot} from './helpers/fixtures.js'

const range = (from: number, to: number): number[] => Array.from({length: to - from}, (_, i) => from + i)
const ALL = range(0, 20)
const without = (...drop: number[]): number[] => ALL.filter((i) => !drop.includes(i))
const off = recordOffset

interface Seen {
  records: Array<{segment: number; offset: number; data: string; resynced: boolean}>
  damage: DumpDamage[]
}

function dumpIn(dir: string, filter: DumpFilter = {}): Seen {
  const seen: Seen = {records: [], damage: []}
  dumpWal(resolveDumpTarget(dir), filter, {
    record: (r) => seen.records.push({segment: r.segment, offset: r.offset, data: r.data.toString(), resynced: r.resynced}),
    damage: (d) => seen.damage.push(d),
  })
  return seen
}

/** `segment:offset..end:kind` */
type Region = string

interface Case {
  name: string
  edit: (w: BuiltWal) => void
  regions: Region[]
  /** Every valid record, by index. */
  records: number[]
  /** Records found only by resyncing past damage in their segment. */
  resynced?: number[]
}

const truncate = (w: BuiltWal, id: number, size: number): void => fs.truncateSync(segPath(w, id), size)

const CASES: Case[] = [
  {name: 'torn last record: length only', edit: (w) => writeBytes(segPath(w, 3), 281, u32le(40)), regions: ['3:281..329:crc-mismatch'], records: ALL},
  {
    name: 'torn last record: half the data',
    edit: (w) => writeBytes(segPath(w, 3), 281, [...u32le(40), ...u32le(crc32(payloadFor(20))), ...payloadFor(20).subarray(0, 20)]),
    regions: ['3:281..329:crc-mismatch'], records: ALL,
  },
  {name: 'stray byte far after the last record', edit: (w) => writeBytes(segPath(w, 3), 400, [0x5a]), regions: ['3:400..401:debris'], records: ALL},
  {name: 'length past the capacity after the last record', edit: (w) => writeBytes(segPath(w, 3), 281, u32le(10_000)), regions: ['3:281..289:bad-length'], records: ALL},
  {name: 'length past the capacity in the middle', edit: (w) => writeBytes(segPath(w, 3), 137, u32le(10_000)), regions: ['3:137..185:bad-length'], records: without(17), resynced: [18, 19]},
  {name: 'zero length in the middle hiding valid records', edit: (w) => writeBytes(segPath(w, 3), 137, u32le(0)), regions: ['3:137..185:zero-length'], records: without(17), resynced: [18, 19]},
  {name: 'a zeroed record in the middle', edit: (w) => zeroRange(segPath(w, 3), 137, 185), regions: ['3:137..185:zero-length'], records: without(17), resynced: [18, 19]},
  {name: 'flipped data byte mid-segment', edit: (w) => flipByte(segPath(w, 2), off(w, 10) + 8 + 5), regions: ['2:185..233:crc-mismatch'], records: without(10), resynced: [11, 12, 13, 14, 15]},
  {name: 'checksum mismatch', edit: (w) => flipByte(segPath(w, 3), 89 + 4), regions: ['3:89..137:crc-mismatch'], records: without(16), resynced: [17, 18, 19]},
  {
    name: 'two damaged records in two segments',
    edit: (w) => {
      flipByte(segPath(w, 1), off(w, 2) + 9)
      writeBytes(segPath(w, 2), off(w, 12), u32le(0))
    },
    regions: ['1:185..233:crc-mismatch', '2:281..329:zero-length'], records: without(2, 12), resynced: [3, 4, 5, 6, 7, 13, 14, 15],
  },
  {name: 'wrong magic: records still listed', edit: (w) => writeBytes(segPath(w, 2), 0, Buffer.from('WLOX')), regions: ['2:0..4:bad-magic'], records: ALL},
  {name: 'wrong version', edit: (w) => writeBytes(segPath(w, 1), 4, u32le(2)), regions: ['1:4..8:bad-version'], records: ALL},
  {name: 'reserved header bytes not zero', edit: (w) => writeBytes(segPath(w, 3), 60, [1]), regions: ['3:60..80:reserved-not-zero'], records: ALL},
  {name: 'file truncated at 0 bytes', edit: (w) => truncate(w, 2, 0), regions: ['2:0..0:short-file'], records: [...range(0, 8), ...range(16, 20)]},
  {name: 'file truncated at 40 bytes', edit: (w) => truncate(w, 2, 40), regions: ['2:0..40:short-file'], records: [...range(0, 8), ...range(16, 20)]},
  {
    name: 'file truncated mid-record',
    edit: (w) => truncate(w, 2, off(w, 10) + 20),
    regions: ['2:185..205:partial-record', '2:205..205:size-mismatch'], records: [...range(0, 10), ...range(16, 20)],
  },
  {name: 'torn last record: header only', edit: (w) => writeBytes(segPath(w, 3), 281, [...u32le(40), ...u32le(crc32(payloadFor(20)))]), regions: ['3:281..329:crc-mismatch'], records: ALL},
  {name: 'stray byte right after the last record', edit: (w) => writeBytes(segPath(w, 3), 281, [0x5a]), regions: ['3:281..379:crc-mismatch'], records: ALL},
  {name: 'stray byte in the last 7 bytes of a segment', edit: (w) => writeBytes(segPath(w, 3), 509, [1]), regions: ['3:509..510:debris'], records: ALL},
  {name: 'torn write: zeros from the middle of a record to the end', edit: (w) => zeroRange(segPath(w, 3), 157, 512), regions: ['3:137..185:crc-mismatch'], records: range(0, 17)},
  {name: 'truncated trailing record', edit: (w) => truncate(w, 3, 263), regions: ['3:233..263:partial-record', '3:263..263:size-mismatch'], records: range(0, 19)},
  {name: 'length one too long', edit: (w) => writeBytes(segPath(w, 3), 185, u32le(41)), regions: ['3:185..233:crc-mismatch'], records: without(18), resynced: [19]},
  {name: 'damage in an older segment', edit: (w) => flipByte(segPath(w, 1), 233 + 8), regions: ['1:233..281:crc-mismatch'], records: without(3), resynced: [4, 5, 6, 7]},
  {name: 'torn tail in an older segment', edit: (w) => zeroRange(segPath(w, 1), 445, 473), regions: ['1:425..473:crc-mismatch'], records: without(7)},
  {name: 'wrong header_size', edit: (w) => writeBytes(segPath(w, 3), 8, u32le(96)), regions: ['3:8..12:bad-header-size'], records: ALL},
  {name: 'data_offset below 80', edit: (w) => writeBytes(segPath(w, 2), 16, u64le(79n)), regions: ['2:16..24:bad-data-offset'], records: ALL},
  {name: 'data_offset above 80: nothing to show', edit: (w) => writeBytes(segPath(w, 2), 16, u64le(4096n)), regions: [], records: ALL},
  {
    name: 'timestamps more than a day in the future',
    edit: (w) => {
      const future = BigInt(Date.now()) * 1000n + 48n * 3_600_000_000n
      writeBytes(segPath(w, 2), 32, [...u64le(future), ...u64le(future)])
    },
    regions: ['2:32..40:future-timestamp', '2:40..48:future-timestamp'], records: ALL,
  },
  {
    name: 'timestamps an hour ahead: a warning, not a region',
    edit: (w) => {
      const ahead = BigInt(Date.now()) * 1000n + 3_600_000_000n
      writeBytes(segPath(w, 3), 32, [...u64le(ahead), ...u64le(ahead)])
    },
    regions: [], records: ALL,
  },
  {name: 'created after modified', edit: (w) => writeBytes(segPath(w, 1), 40, u64le(CREATED_US - 1_000_000n)), regions: ['1:40..48:created-after-modified'], records: ALL},
  {
    name: 'garbage padding bytes: nothing to show',
    edit: (w) => {
      for (const id of [1, 2, 3]) {
        writeBytes(segPath(w, id), 12, [0xde, 0xad, 0xbe, 0xef])
        writeBytes(segPath(w, id), 28, [0x13, 0x37, 0x00, 0xff])
      }
    },
    regions: [], records: ALL,
  },
  {name: 'file truncated at 79 bytes', edit: (w) => truncate(w, 3, 79), regions: ['3:0..79:short-file'], records: range(0, 16)},
  {name: 'file truncated at 85 bytes', edit: (w) => truncate(w, 1, 85), regions: ['1:0..85:short-file'], records: range(8, 20)},
  {name: 'file truncated at 89 bytes (header intact)', edit: (w) => truncate(w, 2, 89), regions: ['2:89..89:size-mismatch'], records: [...range(0, 8), ...range(16, 20)]},
  {name: 'file truncated at a record boundary', edit: (w) => truncate(w, 2, 281), regions: ['2:281..281:size-mismatch'], records: [...range(0, 12), ...range(16, 20)]},
  {name: 'a gap at the start (after gc)', edit: (w) => fs.unlinkSync(segPath(w, 1)), regions: [], records: range(8, 20)},
  {
    name: 'stray files: warnings, not regions',
    edit: (w) => {
      fs.writeFileSync(path.join(w.dir, 'notes.txt'), 'hello')
      fs.writeFileSync(path.join(w.dir, 'wal_000004.log.tmp'), 'partial')
      fs.mkdirSync(path.join(w.dir, 'old'))
    },
    regions: [], records: ALL,
  },
  {name: 'a missing middle segment', edit: (w) => fs.unlinkSync(segPath(w, 2)), regions: ['2:null..null:missing-segment'], records: [...range(0, 8), ...range(16, 20)]},
]

for (const c of CASES) {
  test(`dump lists the damage and every valid record: ${c.name}`, (t) => {
    const w = buildWal()
    c.edit(w)
    const before = snapshot(w.dir)
    const seen = dumpIn(w.dir)
    t.deepEqual(seen.damage.map((d) => `${d.segment}:${d.offset}..${d.end}:${d.kind}`).sort(), [...c.regions].sort())
    for (const d of seen.damage) t.true(d.message.length > 0)
    t.deepEqual(seen.records.map((r) => r.data), c.records.map((i) => w.payloads[i].toString()))
    t.deepEqual(seen.records.map((r) => ({segment: r.segment, offset: r.offset})), c.records.map((i) => w.positions[i]))
    const resynced = seen.records.filter((r) => r.resynced).map((r) => r.data)
    t.deepEqual(resynced, (c.resynced ?? []).map((i) => w.payloads[i].toString()))
    t.deepEqual(snapshot(w.dir), before, 'dump changes no byte and no mtime')
  })
}

test('filters on a damaged WAL: --damaged-only, --valid-only, --offset inside a region', (t) => {
  const w = buildWal()
  flipByte(segPath(w, 2), off(w, 10) + 8 + 5)
  const damagedOnly = dumpIn(w.dir, {damagedOnly: true})
  t.deepEqual(damagedOnly.records, [])
  t.deepEqual(damagedOnly.damage.map((d) => [d.offset, d.end]), [[185, 233]])
  const validOnly = dumpIn(w.dir, {validOnly: true})
  t.deepEqual(validOnly.damage, [])
  t.is(validOnly.records.length, 19)
  const at = dumpIn(w.dir, {segments: new Set([2]), offset: 200})
  t.deepEqual(at.records, [])
  t.deepEqual(at.damage.map((d) => `${d.segment}:${d.offset}..${d.end}`), ['2:185..233'])
  const next = dumpIn(w.dir, {segments: new Set([2]), offset: 233})
  t.deepEqual(next.records.map((r) => r.data), [w.payloads[11].toString()])
})

test('CLI jsonl: damaged regions as {segment, offset, end, kind, message}, resynced records marked, exit 0', async (t) => {
  const w = buildWal()
  writeBytes(segPath(w, 3), 137, u32le(0))
  const r = await walctlAsync(['dump', w.dir, '--format', 'jsonl'])
  t.is(r.code, 0, r.stderr)
  t.is(r.stderr, '')
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.is(lines.length, 20)
  const damage = lines.filter((l) => 'kind' in l)
  t.deepEqual(damage.map(({segment, offset, end, kind}) => ({segment, offset, end, kind})), [{segment: 3, offset: 137, end: 185, kind: 'zero-length'}])
  t.regex(String(damage[0].message), /zero record length/)
  // In file order: the region sits between record 16 and record 18.
  t.deepEqual(lines.slice(16, 19).map((l) => l.offset), [89, 137, 185])
  t.deepEqual(lines.filter((l) => l.resynced === true).map((l) => Buffer.from(String(l.data), 'hex').toString()), [18, 19].map((i) => w.payloads[i].toString()))
})

test('CLI hex: each damaged region hexdumped at its absolute offsets, with --context bytes around it', async (t) => {
  const w = buildWal()
  flipByte(segPath(w, 2), off(w, 10) + 8 + 5)
  const r = await walctlAsync(['dump', w.dir, '--format', 'hex', '--segment', '2', '--damaged-only', '--context', '16'])
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.split('\n')
  const at = lines.findIndex((l) => l.startsWith('damage 2:185..233 crc-mismatch'))
  t.true(at >= 0, r.stdout)
  t.is(lines[at + 1], 'context before 169..185')
  t.true(lines[at + 2].startsWith('000000a9  '), lines[at + 2])
  // The region itself starts at 185 = 0xb9 with the record's length field (40 = 0x28).
  t.true(lines[at + 3].startsWith('000000b9  28 00 00 00 '), lines[at + 3])
  t.true(lines.includes('context after 233..249'))
  t.false(r.stdout.includes('record 2:'), 'no records under --damaged-only')
})

test('CLI table: damaged region and resynced records marked, both CRCs of a damaged record shown', async (t) => {
  const w = buildWal()
  flipByte(segPath(w, 2), off(w, 10) + 8 + 5)
  const r = await walctlAsync(['dump', w.dir, '--format', 'table', '--segment', '2'])
  t.is(r.code, 0, r.stderr)
  const row = r.stdout.split('\n').find((l) => l.startsWith('2:185..233'))
  t.truthy(row, r.stdout)
  const stored = crc32(w.payloads[10]).toString(16).padStart(8, '0')
  const flipped = Buffer.from(w.payloads[10])
  flipped[5] ^= 0xff
  const computed = crc32(flipped).toString(16).padStart(8, '0')
  t.regex(row!, new RegExp(`\\s48\\s+${stored}\\s+${computed}\\s+crc-mismatch`))
  t.regex(r.stdout, /2:233\s+40\s+\w{8}\s+\w{8}\s+ok \(resynced\)\s+"record-0011:/)
  t.regex(r.stdout, /7 record\(s\), .*5 found by resync, 48 damaged byte\(s\)/)
  t.false(r.stdout.includes('\u001b['), 'no colour when NO_COLOR is set and stdout is a pipe')
})

test('a zero-length file and a file shorter than its header dump, alone and in a directory', async (t) => {
  const w = buildWal()
  truncate(w, 3, 0)
  const single = path.join(path.dirname(w.dir), 'copied.log')
  fs.copyFileSync(segPath(w, 2), single)
  fs.truncateSync(single, 50)
  const a = await walctlAsync(['dump', segPath(w, 3), '--format', 'jsonl'])
  t.is(a.code, 0, a.stderr)
  t.deepEqual(a.stdout.trim().split('\n').map((l) => JSON.parse(l) as {kind: string; offset: number; end: number}).map((l) => [l.kind, l.offset, l.end]), [['short-file', 0, 0]])
  const b = await walctlAsync(['dump', single, '--format', 'hex'])
  t.is(b.code, 0, b.stderr)
  t.regex(b.stdout, /damage 0:0\.\.50 short-file/)
  t.regex(b.stdout, /00000000 {2}57 4c 4f 47 /)
})
