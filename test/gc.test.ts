// gc: each policy and its edges through the library (WalManager.cleanup), and
// the command's exit codes, output, --dry-run, --archive and refusals through
// real processes. Small segments (4 KiB) keep every WAL cheap to build.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {WalError} from '../src/core/errors.js'
import {FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {GcOptions, GcResult} from '../src/core/maintain/gc.js'
import {WalManager} from '../src/core/write/manager.js'
import {Position, segmentFileName} from '../src/core/format/names.js'
import {walctl, walctlAsync} from './helpers/cli.js'
import {copyFixture, snapshot, tempDir} from './helpers/fixtures.js'

const SEGMENT = 4096
const DAY = 86_400_000

interface Wal {
  dir: string
  /** positions[s - 1] holds segment s's record positions. */
  positions: Position[][]
}

/** A WAL of `segments` segments of 4 KiB, `perSegment` records each. */
function buildWal(segments: number, perSegment = 3): Wal {
  const dir = path.join(tempDir('walctl-gc-'), 'wal')
  const m = WalManager.init(dir, {segmentSize: SEGMENT})
  const positions: Position[][] = []
  for (let s = 1; s <= segments; s++) {
    if (s > 1) m.rotate()
    const here: Position[] = []
    for (let r = 0; r < perSegment; r++) here.push(m.append(Buffer.from(`segment ${s} record ${r}`)))
    positions.push(here)
  }
  m.close()
  return {dir, positions}
}

function ids(dir: string): number[] {
  return fs.readdirSync(dir).filter((n) => /^wal_\d+\.log$/.test(n)).map((n) => Number(n.slice(4, -4))).sort((a, b) => a - b)
}

function cleanup(dir: string, options: GcOptions): GcResult {
  return WalManager.open(dir).cleanup(options)
}

function range(first: number, last: number): number[] {
  return Array.from({length: last - first + 1}, (_, i) => first + i)
}

function setAge(dir: string, id: number, ageMs: number): void {
  const when = new Date(Date.now() - ageMs)
  fs.utimesSync(path.join(dir, segmentFileName(id)), when, when)
}

function flipDataByte(dir: string, pos: Position): void {
  const file = path.join(dir, segmentFileName(pos.segment))
  const fd = fs.openSync(file, 'r+')
  const b = Buffer.alloc(1)
  fs.readSync(fd, b, 0, 1, pos.offset + 8)
  b[0] ^= 0xff
  fs.writeSync(fd, b, 0, 1, pos.offset + 8)
  fs.closeSync(fd)
}

// --keep

test('--keep N keeps the newest N and removes the rest, oldest first', (t) => {
  const {dir} = buildWal(5)
  const r = cleanup(dir, {keep: 2})
  t.deepEqual(r.segments.map((s) => s.id), [1, 2, 3])
  t.true(r.segments.every((s) => s.policies.join() === 'keep'))
  t.is(r.bytesFreed, 3 * SEGMENT)
  t.deepEqual(r.kept, {count: 2, first: 4, last: 5, bytes: 2 * SEGMENT})
  t.deepEqual(ids(dir), [4, 5])
})

test('--keep N with N larger than the count, or equal to it, removes nothing', (t) => {
  const {dir} = buildWal(3)
  const before = snapshot(dir)
  for (const keep of [3, 4, 1000]) {
    const r = cleanup(dir, {keep})
    t.is(r.segments.length, 0)
    t.is(r.bytesFreed, 0)
    t.is(r.kept.count, 3)
  }
  t.deepEqual(snapshot(dir), before)
})

test('--keep 1 on a WAL of one segment removes nothing: the newest always stays', (t) => {
  const {dir} = buildWal(1)
  t.is(cleanup(dir, {keep: 1}).segments.length, 0)
  t.deepEqual(ids(dir), [1])
})

// --upto

test('--upto at a segment\'s first record keeps that segment and removes every older one', (t) => {
  const {dir, positions} = buildWal(5)
  t.deepEqual(positions[2][0], {segment: 3, offset: FIRST_RECORD_OFFSET})
  const r = cleanup(dir, {upto: positions[2][0]})
  t.deepEqual(r.segments.map((s) => s.id), [1, 2])
  t.deepEqual(ids(dir), [3, 4, 5])
})

test('--upto in the newest segment removes everything older, never the newest', (t) => {
  const {dir, positions} = buildWal(4)
  const r = cleanup(dir, {upto: positions[3][2]})
  t.deepEqual(r.segments.map((s) => s.id), [1, 2, 3])
  t.deepEqual(ids(dir), [4])
})

test('--upto at the end of a segment\'s records still keeps the segment holding it', (t) => {
  const {dir, positions} = buildWal(4)
  const last = positions[1][2]
  const end = last.offset + 8 + 'segment 2 record 2'.length
  const r = cleanup(dir, {upto: {segment: 2, offset: end}})
  t.deepEqual(r.segments.map((s) => s.id), [1])
  t.deepEqual(ids(dir), [2, 3, 4])
})

test('--upto before the oldest segment (already collected) removes nothing', (t) => {
  const {dir} = buildWal(4)
  cleanup(dir, {keep: 2})
  const r = cleanup(dir, {upto: {segment: 2, offset: FIRST_RECORD_OFFSET}})
  t.is(r.segments.length, 0)
  t.deepEqual(ids(dir), [3, 4])
})

test('--upto past the end of the WAL, or not at a record boundary, is refused with exit 65 and changes nothing', (t) => {
  const {dir, positions} = buildWal(3)
  const before = snapshot(dir)
  const past = t.throws(() => cleanup(dir, {upto: {segment: 4, offset: 89}}), {instanceOf: WalError})
  t.is(past?.exitCode, 65)
  t.regex(past!.message, /past the end of the WAL/)
  const inside = t.throws(() => cleanup(dir, {upto: {segment: 2, offset: positions[1][1].offset + 3}}), {instanceOf: WalError})
  t.is(inside?.exitCode, 65)
  t.regex(inside!.message, /not where a record starts/)
  const data = t.throws(() => cleanup(dir, {upto: {segment: 3, offset: positions[2][1].offset + 8}}), {instanceOf: WalError})
  t.regex(data!.message, /data offset.*starts at 3:/)
  const beyond = t.throws(() => cleanup(dir, {upto: {segment: 3, offset: 4000}}), {instanceOf: WalError})
  t.regex(beyond!.message, /past the end of wal_000003\.log's records/)
  t.deepEqual(snapshot(dir), before)
})

// --max-total-size

test('--max-total-size removes the oldest segments until the WAL fits', (t) => {
  const {dir} = buildWal(5)
  t.deepEqual(cleanup(dir, {maxTotalSize: 5 * SEGMENT, dryRun: true}).segments.length, 0)
  t.deepEqual(cleanup(dir, {maxTotalSize: 3 * SEGMENT, dryRun: true}).segments.map((s) => s.id), [1, 2])
  t.deepEqual(cleanup(dir, {maxTotalSize: 3 * SEGMENT - 1, dryRun: true}).segments.map((s) => s.id), [1, 2, 3])
  const r = cleanup(dir, {maxTotalSize: 0})
  t.deepEqual(r.segments.map((s) => s.id), [1, 2, 3, 4])
  t.true(r.notes.some((n) => /newest segment, wal_000005\.log, is always kept/.test(n)))
  t.true(r.notes.some((n) => /still takes 4\.00 KiB/.test(n)))
  t.deepEqual(ids(dir), [5])
})

// --max-age

test('--max-age removes the segments last written before the cutoff', (t) => {
  const {dir} = buildWal(5)
  for (const id of [1, 2, 3]) setAge(dir, id, 10 * DAY)
  const r = cleanup(dir, {maxAgeMs: 7 * DAY})
  t.deepEqual(r.segments.map((s) => s.id), [1, 2, 3])
  t.true(r.segments.every((s) => Date.parse(s.lastWrite) < Date.now() - 7 * DAY))
  t.deepEqual(ids(dir), [4, 5])
})

test('--max-age stops at the first young segment: contiguous only, and never the newest even when old', (t) => {
  const {dir} = buildWal(5)
  for (const id of [1, 3, 4, 5]) setAge(dir, id, 10 * DAY)
  const r = cleanup(dir, {maxAgeMs: 7 * DAY})
  t.deepEqual(r.segments.map((s) => s.id), [1])
  t.true(r.notes.some((n) => /wal_000002\.log was written after the cutoff/.test(n)))
  setAge(dir, 2, 10 * DAY)
  t.deepEqual(cleanup(dir, {maxAgeMs: 7 * DAY}).segments.map((s) => s.id), [2, 3, 4])
  t.deepEqual(ids(dir), [5])
})

// Combinations

test('policies combine: pressures ask, --keep and --upto limit', (t) => {
  const {dir, positions} = buildWal(6)
  for (const id of [1, 2, 3, 4, 5]) setAge(dir, id, 10 * DAY)
  const limitedByKeep = cleanup(dir, {maxAgeMs: 7 * DAY, keep: 4, dryRun: true})
  t.deepEqual(limitedByKeep.segments.map((s) => s.id), [1, 2])
  t.true(limitedByKeep.notes.some((n) => /--keep 4 keeps 3 segment\(s\)/.test(n)))
  const limitedByUpto = cleanup(dir, {maxAgeMs: 7 * DAY, upto: positions[1][1], dryRun: true})
  t.deepEqual(limitedByUpto.segments.map((s) => s.id), [1])
  // The larger ask of the two pressures wins.
  t.deepEqual(cleanup(dir, {maxAgeMs: 7 * DAY, maxTotalSize: 5 * SEGMENT, dryRun: true}).segments.map((s) => s.id), [1, 2, 3, 4, 5])
  t.deepEqual(cleanup(dir, {maxAgeMs: 100 * DAY, maxTotalSize: 5 * SEGMENT, dryRun: true}).segments.map((s) => s.id), [1])
  // Two limits: the stricter decides.
  const both = cleanup(dir, {upto: positions[4][0], keep: 3, dryRun: true})
  t.deepEqual(both.segments.map((s) => s.id), [1, 2, 3])
  t.deepEqual(both.segments[0].policies, ['upto', 'keep'])
  t.deepEqual(ids(dir), range(1, 6))
})

// Safety

test('a missing id among the segments to remove is refused with exit 2 and nothing removed; --force overrides', (t) => {
  const {dir} = buildWal(5)
  fs.unlinkSync(path.join(dir, segmentFileName(2)))
  const before = snapshot(dir)
  const e = t.throws(() => cleanup(dir, {keep: 1}), {instanceOf: WalError})
  t.is(e?.exitCode, 2)
  t.regex(e!.message, /refusing to remove wal_000001\.log\.\.wal_000004\.log: segment 2 is missing.*--force/)
  t.deepEqual(snapshot(dir), before)
  const forced = cleanup(dir, {keep: 1, force: true})
  t.deepEqual(forced.segments.map((s) => s.id), [1, 3, 4])
  t.is(forced.forced.length, 1)
  t.deepEqual(ids(dir), [5])
})

test('a missing id after the segments to remove is refused too: they would no longer be a clean prefix', (t) => {
  const {dir} = buildWal(5)
  fs.unlinkSync(path.join(dir, segmentFileName(4)))
  const e = t.throws(() => cleanup(dir, {keep: 3}), {instanceOf: WalError})
  t.is(e?.exitCode, 2)
  t.regex(e!.message, /segment 4 is missing after them/)
  t.deepEqual(ids(dir), [1, 2, 3, 5])
})

test('a gap of several ids is named whole in the refusal, through the CLI: the operator sees every id missing, not the first', (t) => {
  const {dir} = buildWal(7)
  for (const id of [2, 3, 4]) fs.unlinkSync(path.join(dir, segmentFileName(id)))
  const before = snapshot(dir)
  const r = walctl(['gc', dir, '--keep', '1'])
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /^walctl: .*refusing to remove wal_000001\.log\.\.wal_000006\.log: segments 2 to 4 \(3\) are missing, so they are not a contiguous prefix/)
  t.deepEqual(snapshot(dir), before)
  const after = walctl(['gc', dir, '--keep', '3'])
  t.is(after.code, 2, after.stderr)
  t.regex(after.stderr, /segments 2 to 4 \(3\) are missing, so they are not a contiguous prefix/)
})

test('damage that verify calls damaged in a segment that stays refuses gc; damage in a segment that goes refuses it too, unless --force', (t) => {
  const {dir, positions} = buildWal(5)
  // A bad CRC on the first record of segment 4 hides the two after it: damaged.
  flipDataByte(dir, positions[3][0])
  const before = snapshot(dir)
  const e = t.throws(() => cleanup(dir, {keep: 3}), {instanceOf: WalError})
  t.is(e?.exitCode, 2)
  t.is(e?.segment, 4)
  t.is(e?.offset, positions[3][0].offset)
  t.regex(e!.message, /wal_000004\.log is damaged at offset 89 \(crc-mismatch/)
  t.deepEqual(snapshot(dir), before)
  // Removing the damaged segment itself would lose the records behind the damage, never replayed: refused, --force removes it.
  const {dir: other, positions: p2} = buildWal(4)
  flipDataByte(other, p2[0][0])
  const e2 = t.throws(() => cleanup(other, {keep: 2}), {instanceOf: WalError})
  t.is(e2?.exitCode, 2)
  t.regex(e2!.message, /refusing to remove wal_000001\.log: it holds damage at offset 89 \(crc-mismatch/)
  t.deepEqual(cleanup(other, {keep: 2, force: true}).segments.map((s) => s.id), [1, 2])
})

test('cleanup on the manager keeps appending in the current segment and forgets the removed ones', (t) => {
  const {dir} = buildWal(4)
  const m = WalManager.open(dir)
  const before = m.append(Buffer.from('before gc'))
  const r = m.cleanup({keep: 1})
  t.deepEqual(r.segments.map((s) => s.id), [1, 2, 3])
  t.deepEqual(m.segments.map((s) => s.id), [4])
  const after = m.append(Buffer.from('after gc'))
  t.is(after.segment, before.segment)
  t.true(after.offset > before.offset)
  m.close()
  t.deepEqual(ids(dir), [4])
})

// The command

test('gc --keep through the CLI: one line per segment, the bytes freed, exit 0', async (t) => {
  const {dir} = buildWal(4)
  const r = await walctlAsync(['gc', dir, '--keep', '2'])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^wal_000001\.log  4\.00 KiB  removed: older than --keep 2 \(last written \S+\)$/m)
  t.regex(r.stdout, /^wal_000002\.log  4\.00 KiB  removed: /m)
  t.notRegex(r.stdout, /\(keep;/)
  t.regex(r.stdout, /removed 2 segment\(s\), 8\.00 KiB \(8192 bytes\) freed; kept 2 segment\(s\), wal_000003\.log\.\.wal_000004\.log/)
  t.is(r.stderr, '')
  t.deepEqual(ids(dir), [3, 4])
  t.deepEqual(fs.readdirSync(dir).sort(), ['wal_000003.log', 'wal_000004.log'], 'no lock file left behind')
})

test('gc --json: the removed segments, bytes freed and what is kept', async (t) => {
  const {dir, positions} = buildWal(4)
  const r = await walctlAsync(['gc', dir, '--upto', `3:${positions[2][1].offset}`, '--json'])
  t.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as GcResult
  t.is(out.dir, dir)
  t.false(out.dryRun)
  t.is(out.action, 'delete')
  t.deepEqual(out.segments.map((s) => [s.id, s.name, s.size, s.policies]), [[1, 'wal_000001.log', SEGMENT, ['upto']], [2, 'wal_000002.log', SEGMENT, ['upto']]])
  t.is(out.bytesFreed, 2 * SEGMENT)
  t.deepEqual(out.kept, {count: 2, first: 3, last: 4, bytes: 2 * SEGMENT})
})

test('gc --dry-run leaves the directory byte-identical and says what would go', async (t) => {
  const {dir} = buildWal(5)
  const archive = path.join(tempDir(), 'archive')
  const before = snapshot(dir)
  const names = fs.readdirSync(dir).sort()
  const r = await walctlAsync(['gc', dir, '--keep', '1', '--dry-run', '--archive', archive])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^wal_000001\.log  4\.00 KiB  would be archived to \S+: older than --keep 1 /m)
  t.regex(r.stdout, /dry run: would archive 4 segment\(s\), 16\.0 KiB \(16384 bytes\) and keep 1 segment\(s\), wal_000005\.log .*nothing changed/)
  t.deepEqual(snapshot(dir), before)
  t.deepEqual(fs.readdirSync(dir).sort(), names)
  t.false(fs.existsSync(archive), 'the archive is not even created')
})

test('gc --archive moves every byte: the copies are identical, the originals gone, no temporary left', async (t) => {
  const {dir} = buildWal(4)
  const archive = path.join(tempDir(), 'nested', 'archive')
  const before = snapshot(dir)
  const r = await walctlAsync(['gc', dir, '--keep', '1', '--archive', archive, '--json'])
  t.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as GcResult
  t.is(out.action, 'archive')
  t.deepEqual(out.segments.map((s) => s.archivedTo), [1, 2, 3].map((id) => path.join(archive, segmentFileName(id))))
  t.deepEqual(fs.readdirSync(archive).sort(), ['wal_000001.log', 'wal_000002.log', 'wal_000003.log'])
  for (const id of [1, 2, 3]) {
    t.is(fs.readFileSync(path.join(archive, segmentFileName(id))).toString('base64'), before.get(segmentFileName(id))!.bytes)
  }
  t.deepEqual(ids(dir), [4])
  t.is(fs.readFileSync(path.join(dir, segmentFileName(4))).toString('base64'), before.get(segmentFileName(4))!.bytes)
  // The archive is itself a readable WAL: every record is still there.
  const dumped = walctl(['dump', archive, '--format', 'jsonl'])
  t.is(dumped.code, 0, dumped.stderr)
  t.is(dumped.stdout.trim().split('\n').length, 9)
})

test('gc --archive after an interrupted run: an identical copy already there is fine, a different one is refused with nothing removed', (t) => {
  const {dir} = buildWal(4)
  const archive = path.join(tempDir(), 'archive')
  fs.mkdirSync(archive)
  fs.copyFileSync(path.join(dir, segmentFileName(1)), path.join(archive, segmentFileName(1)))
  fs.writeFileSync(path.join(archive, segmentFileName(2)), 'something else')
  const before = snapshot(dir)
  const e = t.throws(() => cleanup(dir, {keep: 1, archiveDir: archive}), {instanceOf: WalError})
  t.is(e?.exitCode, 73)
  t.regex(e!.message, /a different wal_000002\.log is already there; nothing was removed/)
  t.deepEqual(snapshot(dir), before)
  fs.unlinkSync(path.join(archive, segmentFileName(2)))
  t.deepEqual(cleanup(dir, {keep: 1, archiveDir: archive}).segments.map((s) => s.id), [1, 2, 3])
  for (const id of [1, 2, 3]) t.is(fs.readFileSync(path.join(archive, segmentFileName(id))).toString('base64'), before.get(segmentFileName(id))!.bytes)
  t.deepEqual(fs.readdirSync(archive).sort(), ['wal_000001.log', 'wal_000002.log', 'wal_000003.log'])
})

test('gc refusals through the CLI: exit 2 on damage, 64 without a policy or with a bad value, 65 for a bad --upto', async (t) => {
  const {dir} = buildWal(4)
  fs.unlinkSync(path.join(dir, segmentFileName(3)))
  const before = snapshot(dir)
  const [damaged, none, badAge, badUpto, keep0, sameArchive, pastEnd] = await Promise.all([
    // Those that get as far as the lock wait for each other.
    walctlAsync(['gc', dir, '--keep', '1', '--wait', '60']),
    walctlAsync(['gc', dir]),
    walctlAsync(['gc', dir, '--max-age', 'soon']),
    walctlAsync(['gc', dir, '--upto', 'three']),
    walctlAsync(['gc', dir, '--keep', '0']),
    walctlAsync(['gc', dir, '--keep', '1', '--archive', dir, '--wait', '60']),
    walctlAsync(['gc', dir, '--upto', '9:89', '--json', '--wait', '60']),
  ])
  t.is(damaged.code, 2, damaged.stderr)
  t.regex(damaged.stderr, /^walctl: .*refusing to remove wal_000001\.log\.\.wal_000002\.log: segment 3 is missing/)
  t.is(none.code, 64)
  t.regex(none.stderr, /no policy given/)
  t.is(badAge.code, 64)
  t.regex(badAge.stderr, /invalid duration 'soon' for --max-age/)
  t.is(badUpto.code, 64)
  t.regex(badUpto.stderr, /invalid position 'three' for --upto/)
  t.is(keep0.code, 64)
  t.is(sameArchive.code, 64)
  t.regex(sameArchive.stderr, /the WAL directory itself/)
  t.is(pastEnd.code, 65)
  t.is((JSON.parse(pastEnd.stdout) as {error: {exitCode: number}}).error.exitCode, 65)
  for (const r of [damaged, none, badAge, badUpto, keep0, sameArchive]) t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.deepEqual(snapshot(dir), before)
  const forced = await walctlAsync(['gc', dir, '--keep', '1', '--force'])
  t.is(forced.code, 0, forced.stderr)
  t.regex(forced.stderr, /--force: removed despite: segment 3 is missing/)
  t.deepEqual(ids(dir), [4])
})

test('gc works on a Shardex index root (holding wal/) and leaves Shardex\'s newest segment', async (t) => {
  const root = copyFixture('rotation')
  const wal = path.join(root, 'wal')
  const all = ids(wal)
  t.true(all.length >= 2)
  const r = await walctlAsync(['gc', root, '--keep', '1', '--json'])
  t.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as GcResult
  t.is(out.dir, wal)
  t.deepEqual(out.segments.map((s) => s.id), all.slice(0, -1))
  t.deepEqual(ids(wal), all.slice(-1))
  t.is(walctl(['verify', root, '--quiet']).code, 0)
})
