// What a recover costs, counted apart (valid records dropped, records found
// only past damage kept or dropped, damaged regions and bytes removed), and
// what its report.json says about who ran it and about each original, through
// the real CLI.
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import test from 'ava'
import {ROOT, walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'
import {checkShape, parseTypes} from './helpers/json-shape.js'

const types = parseTypes(fs.readFileSync(path.join(ROOT, 'docs', 'JSON.md'), 'utf8'))

interface Loss {
  validDropped: number
  resyncedKept: number
  resyncedDropped: number
  damagedRegions: number
  damagedBytesRemoved: number
}

/** Five records of 17 bytes (25 with their header) in one 4 KiB segment; the second one's data corrupted. */
function corruptedWal(): {dir: string; segment: string} {
  const dir = path.join(tempDir(), 'wal')
  const init = walctl(['init', dir, '--segment-size', '4KiB'])
  if (init.code !== 0) throw new Error(init.stderr)
  const app = walctl(['append', dir, ...[1, 2, 3, 4, 5].map((i) => `payload-of-17b-${String(i).padStart(2, '0')}`)])
  if (app.code !== 0) throw new Error(app.stderr)
  if (app.stdout.trim().split('\n')[1] !== '1:114') throw new Error(`unexpected positions ${app.stdout}`)
  const segment = path.join(dir, 'wal_000001.log')
  const fd = fs.openSync(segment, 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 114 + 8 + 3)
  fs.closeSync(fd)
  return {dir, segment}
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

test('salvage of a WAL with a corrupted 25-byte record says the record is removed as damage, not "drop 0" alone', (t) => {
  const {dir} = corruptedWal()
  const dry = walctl(['recover', dir, '--mode', 'salvage', '--dry-run'])
  t.is(dry.code, 0, dry.stderr)
  t.regex(dry.stdout, /salvage \(dry run, nothing changed\): would keep 4 record\(s\), drop 0, remove 1 damaged region \(25 B\); 3 kept record\(s\) were found only past damage/)
  t.regex(dry.stdout, /wal_000001\.log: rewrite keeping 4 record\(s\) \(100 B\), removing 1 damaged region \(25 B\)/)
  t.regex(dry.stdout, /point-in-time +keeps 1, drops 3, changes 1 segment\(s\); dropped: 0 valid, 3 found only past damage; removes 1 damaged region \(25 B\)/)
  const j = JSON.parse(walctl(['recover', dir, '--mode', 'salvage', '--dry-run', '--json']).stdout) as {loss: Loss; actions: Array<{loss: Loss}>; modes: Array<{mode: string; loss: Loss}>}
  const salvage: Loss = {validDropped: 0, resyncedKept: 3, resyncedDropped: 0, damagedRegions: 1, damagedBytesRemoved: 25}
  t.deepEqual(j.loss, salvage)
  t.deepEqual(j.actions[0].loss, salvage)
  t.deepEqual(j.modes.find((m) => m.mode === 'point-in-time')!.loss, {validDropped: 0, resyncedKept: 0, resyncedDropped: 3, damagedRegions: 1, damagedBytesRemoved: 25})
  t.deepEqual(checkShape(j, types.get('Recover')!, types), [])
})

test('a torn tail removed by tolerate-tail is counted as a damaged region with its bytes', (t) => {
  const {dir, segment} = corruptedWal()
  // Cut the WAL's second record into a torn tail: zero everything after its header and data.
  const buf = fs.readFileSync(segment)
  buf.fill(0, 114 + 25)
  buf[114 + 8] ^= 0xff
  fs.writeFileSync(segment, buf)
  const j = JSON.parse(walctl(['recover', dir, '--json']).stdout) as {records: {dropped: number}; loss: Loss; exitCode: number}
  t.is(j.exitCode, 0)
  t.is(j.records.dropped, 0)
  t.deepEqual(j.loss, {validDropped: 0, resyncedKept: 0, resyncedDropped: 0, damagedRegions: 1, damagedBytesRemoved: 25})
})

test('report.json: walctl version, host, user, subcommand, mode, time, the counts, and each original with its SHA-256, size, mode and owner', (t) => {
  const {dir, segment} = corruptedWal()
  fs.chownSync(segment, 65534, 65534)
  fs.chmodSync(segment, 0o640)
  const before = {sha: sha256(segment), st: fs.statSync(segment)}
  const started = Date.now()
  const r = walctl(['recover', dir, '--mode', 'salvage', '--json'])
  t.is(r.code, 0, r.stderr)
  const result = JSON.parse(r.stdout) as {quarantine: string}
  const report = JSON.parse(fs.readFileSync(path.join(result.quarantine, 'report.json'), 'utf8')) as Record<string, unknown> & {
    actions: Array<{file: string; quarantined: string; original: {size: number; mode: string; uid: number; gid: number; sha256: string}; left: {sha256: string; records: number; end: number}}>
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {version: string}
  t.is(report.walctl, `walctl ${pkg.version}`)
  t.is(report.host, os.hostname())
  t.deepEqual(report.user, {name: os.userInfo().username, uid: process.getuid!()})
  t.is(report.subcommand, 'recover')
  t.is(report.mode, 'salvage')
  t.is(report.status, 'done')
  const time = Date.parse(report.time as string)
  t.true(time >= started - 1000 && time <= Date.now() + 1000, String(report.time))
  t.deepEqual(report.loss, {validDropped: 0, resyncedKept: 3, resyncedDropped: 0, damagedRegions: 1, damagedBytesRemoved: 25})
  t.is(report.lastSegment, 1)
  const [a] = report.actions
  t.is(a.file, 'wal_000001.log')
  t.false(path.isAbsolute(a.quarantined))
  const copy = path.join(dir, a.quarantined)
  t.deepEqual(a.original, {size: 4096, mode: '0640', uid: 65534, gid: 65534, sha256: before.sha})
  t.is(sha256(copy), a.original.sha256)
  t.is(before.st.size, a.original.size)
  // The state recover left, for an undo to tell an append since.
  t.is(a.left.sha256, sha256(segment))
  t.deepEqual([a.left.records, a.left.end], [4, 89 + 100])
})
