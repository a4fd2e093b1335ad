// Degenerate WALs get clear answers through real processes: a gap too large
// to fill is refused up front; exit 2 from recover always means nothing
// changed; a header-only segment gets one story from verify, append and
// recover; a WAL whose only segment is cut inside its header is recovered with
// --segment-size; a read-only segment is left alone without --force.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {walctl} from './helpers/cli.js'
import {snapshot, tempDir} from './helpers/fixtures.js'

interface RecoverJson {
  exitCode: number
  refused: string | null
  changed: boolean
  verdictAfter: string
  actions: Array<{action: string; file: string}>
  modes: Array<{mode: string; possible: boolean; reason?: string}>
}

function newWal(size = '64KiB', records: string[] = []): string {
  const wal = path.join(tempDir('walctl-degenerate-'), 'wal')
  t0(walctl(['init', wal, '--segment-size', size]))
  if (records.length > 0) t0(walctl(['append', wal, ...records]))
  return wal
}

function t0(r: {code: number; stderr: string}): void {
  if (r.code !== 0) throw new Error(r.stderr)
}

const seg = (wal: string, id: number): string => path.join(wal, `wal_${String(id).padStart(6, '0')}.log`)

test('a gap of millions of ids: salvage refuses up front in well under a second, nothing changed, exit 2', (t) => {
  const wal = newWal('64KiB', ['a', 'b'])
  fs.copyFileSync(seg(wal, 1), seg(wal, 9_999_999))
  const before = snapshot(wal)
  for (const dryRun of [['--dry-run'], []]) {
    const r = walctl(['recover', wal, '--mode', 'salvage', '--json', ...dryRun], {timeoutMs: 20_000})
    t.is(r.code, 2, r.stderr)
    const j = JSON.parse(r.stdout) as RecoverJson
    t.false(j.changed)
    t.regex(j.refused ?? '', /9999997 segment\(s\) are missing \(wal_000002\.log\.\.wal_9999998\.log\): too many to fill/)
    t.regex(j.refused ?? '', /--mode point-in-time/)
  }
  t.deepEqual(snapshot(wal), before, 'nothing changed')
  t.deepEqual(fs.readdirSync(wal).sort(), ['wal_000001.log', 'wal_9999999.log'])
})

test('a fill that fits is still done by salvage: a small gap gets empty segments and verifies clean', (t) => {
  const wal = newWal('64KiB', ['a'])
  fs.copyFileSync(seg(wal, 1), seg(wal, 4))
  const r = walctl(['recover', wal, '--mode', 'salvage', '--json'])
  t.is(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout) as RecoverJson
  t.deepEqual(j.actions.map((a) => `${a.action} ${a.file}`), ['create wal_000002.log', 'create wal_000003.log'])
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test('a header-only segment: verify says damaged, append refuses naming the fix, recover refuses naming the flag, and --segment-size repairs it', (t) => {
  const wal = newWal('64KiB')
  fs.truncateSync(seg(wal, 1), 89)
  const v = walctl(['verify', wal, '--json'])
  t.is(v.code, 2, v.stdout)
  t.regex(v.stdout, /too small to hold any record/)
  const a = walctl(['append', wal, 'x'])
  t.is(a.code, 65)
  t.regex(a.stderr, /wal_000001\.log: segment is 89 bytes, too small to hold any record .*--segment-size SIZE/)
  t.is(a.stderr.trim().split('\n').length, 1)
  const before = snapshot(wal)
  const r = walctl(['recover', wal, '--json'])
  t.is(r.code, 2)
  const j = JSON.parse(r.stdout) as RecoverJson
  t.false(j.changed)
  t.regex(j.refused ?? '', /--segment-size SIZE/)
  t.deepEqual(snapshot(wal), before)
  const fixed = walctl(['recover', wal, '--segment-size', '64KiB', '--json'])
  t.is(fixed.code, 0, fixed.stderr)
  t.is((JSON.parse(fixed.stdout) as RecoverJson).verdictAfter, 'clean')
  t.is(fs.statSync(seg(wal, 1)).size, 64 * 1024)
  t.is(walctl(['append', wal, 'x']).stdout, '1:89\n')
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test('the only segment cut inside its header: --segment-size quarantines it and makes a fresh first segment', (t) => {
  const wal = newWal('64KiB')
  fs.truncateSync(seg(wal, 1), 50)
  const original = fs.readFileSync(seg(wal, 1))
  const refused = walctl(['recover', wal])
  t.is(refused.code, 2)
  t.regex(refused.stderr, /no segment is long enough to tell the WAL's segment size.*--segment-size SIZE/)
  const wrong = walctl(['recover', wal, '--segment-size', '10'])
  t.is(wrong.code, 64, wrong.stderr)
  const r = walctl(['recover', wal, '--segment-size', '64KiB', '--json'])
  t.is(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout) as RecoverJson & {quarantine: string}
  t.is(j.verdictAfter, 'clean')
  t.deepEqual(fs.readFileSync(path.join(j.quarantine, 'wal_000001.log')), original, 'the broken file is kept in the quarantine')
  t.is(fs.statSync(seg(wal, 1)).size, 64 * 1024)
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test('--segment-size that disagrees with a WAL whose size is known is a usage error, nothing changed', (t) => {
  const wal = newWal('64KiB', ['a'])
  const before = snapshot(wal)
  const r = walctl(['recover', wal, '--segment-size', '1MiB'])
  t.is(r.code, 64)
  t.regex(r.stderr, /disagrees with the WAL's segments \(65536 bytes\)/)
  t.deepEqual(snapshot(wal), before)
})

test('a segment without write permission is not rewritten without --force: exit 2 naming it, nothing changed', (t) => {
  const wal = newWal('64KiB', ['a', 'b'])
  // A torn tail after the two records: repairable.
  const fd = fs.openSync(seg(wal, 1), 'r+')
  fs.writeSync(fd, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4]), 0, 8, 89 + 9 + 9)
  fs.closeSync(fd)
  fs.chmodSync(seg(wal, 1), 0o444)
  const before = snapshot(wal)
  for (const dryRun of [['--dry-run'], []]) {
    const r = walctl(['recover', wal, '--json', ...dryRun])
    t.is(r.code, 2, r.stderr)
    const j = JSON.parse(r.stdout) as RecoverJson
    t.false(j.changed)
    t.regex(j.refused ?? '', /wal_000001\.log has no write permission \(mode 0444\).*--force/)
  }
  t.deepEqual(snapshot(wal), before)
  t.false(fs.existsSync(path.join(wal, 'quarantine')))
  const forced = walctl(['recover', wal, '--force'])
  t.is(forced.code, 0, forced.stderr)
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test('point-in-time past a read-only later segment: the move is refused too', (t) => {
  const wal = newWal('64KiB', ['a'])
  fs.copyFileSync(seg(wal, 1), seg(wal, 3))
  fs.chmodSync(seg(wal, 3), 0o400)
  const before = snapshot(wal)
  const r = walctl(['recover', wal, '--mode', 'point-in-time'])
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /wal_000003\.log has no write permission/)
  t.deepEqual(snapshot(wal), before)
})

test('recover exits 2 only when nothing changed: the lone-file refusal names no directory to repair', (t) => {
  const dir = tempDir()
  const lone = path.join(dir, 'notes.txt')
  fs.writeFileSync(lone, 'hello\n')
  const r = walctl(['recover', lone])
  t.is(r.code, 64)
  t.notRegex(r.stderr, /walctl recover ["']?\//)
  t.deepEqual(fs.readdirSync(dir), ['notes.txt'])
})
