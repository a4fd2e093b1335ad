// Every bad input: one clear line naming the file (and offset), its exit code, nothing changed on disk.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {walctl} from './helpers/cli.js'
import {snapshot, tempDir} from './helpers/fixtures.js'

function oneLine(t: {is: (a: unknown, b: unknown, m?: string) => void}, stderr: string): void {
  t.is(stderr.trim().split('\n').length, 1, `one line: ${stderr}`)
}

function walWithRecords(): string {
  const dir = path.join(tempDir(), 'wal')
  walctl(['init', dir, '--segment-size', '4KiB'])
  walctl(['append', dir, 'a', 'b'])
  return dir
}

test('missing directory: exit 66 naming it', (t) => {
  const missing = path.join(tempDir(), 'nope')
  for (const args of [['append', missing, 'x'], ['verify', missing], ['rotate', missing], ['dump', missing]]) {
    const r = walctl(args)
    t.is(r.code, 66, args.join(' '))
    t.true(r.stderr.includes(missing), r.stderr)
    oneLine(t, r.stderr)
  }
  t.false(fs.existsSync(missing))
})

test('a file where a directory is expected: exit 66', (t) => {
  const file = path.join(tempDir(), 'plain.txt')
  fs.writeFileSync(file, 'hello')
  const r = walctl(['append', file, 'x'])
  t.is(r.code, 66)
  t.regex(r.stderr, /plain\.txt: not a directory/)
  oneLine(t, r.stderr)
  t.is(fs.readFileSync(file, 'utf8'), 'hello')
})

test('an unreadable segment: exit 66 naming the file', (t) => {
  const dir = walWithRecords()
  fs.chmodSync(path.dirname(dir), 0o755)
  // 0o777: the writer must be able to create its lock (.walctl.lock) in the directory, to get as far as the segment.
  fs.chmodSync(dir, 0o777)
  const seg = path.join(dir, 'wal_000001.log')
  fs.chmodSync(seg, 0o000)
  // Root reads any file: run the child as an unprivileged user when we are root.
  const r = process.getuid?.() === 0 ? walctlAs(65534, ['append', dir, 'x']) : walctl(['append', dir, 'x'])
  fs.chmodSync(seg, 0o644)
  t.is(r.code, 66, r.stderr)
  t.true(r.stderr.includes('wal_000001.log'), r.stderr)
  t.regex(r.stderr, /permission denied/)
  oneLine(t, r.stderr)
})

test('a segment shorter than its header: exit 65 with the file and offset, nothing written', (t) => {
  const dir = walWithRecords()
  const seg = path.join(dir, 'wal_000001.log')
  fs.truncateSync(seg, 40)
  const before = snapshot(dir)
  const r = walctl(['append', dir, 'x'])
  t.is(r.code, 65)
  t.regex(r.stderr, /wal_000001\.log: offset 40: .*40 bytes, shorter than the 89-byte segment header/)
  oneLine(t, r.stderr)
  t.deepEqual(snapshot(dir), before)
})

test('a non-WAL file named wal_000001.log: exit 65 at offset 0, nothing written', (t) => {
  const dir = path.join(tempDir(), 'wal')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'wal_000001.log'), 'this is a text file, not a write-ahead log segment\n'.repeat(10))
  const before = snapshot(dir)
  for (const args of [['append', dir, 'x'], ['rotate', dir]]) {
    const r = walctl(args)
    t.is(r.code, 65, args.join(' '))
    t.regex(r.stderr, /wal_000001\.log: offset 0: not a valid WAL segment: magic is "this", expected "WLOG"/)
    oneLine(t, r.stderr)
  }
  t.is(walctl(['verify', dir]).code, 2)
  t.deepEqual(snapshot(dir), before)
})

test('an unknown flag: exit 64, one line', (t) => {
  const dir = walWithRecords()
  const before = snapshot(dir)
  const r = walctl(['append', dir, '--bogus', 'x'])
  t.is(r.code, 64)
  t.regex(r.stderr, /unknown flag '--bogus'/)
  oneLine(t, r.stderr)
  t.deepEqual(snapshot(dir), before)
})

test('a size like 12XB: exit 64 and no directory created', (t) => {
  const dir = path.join(tempDir(), 'wal')
  const r = walctl(['init', dir, '--segment-size', '12XB'])
  t.is(r.code, 64)
  t.regex(r.stderr, /invalid size '12XB' for --segment-size/)
  oneLine(t, r.stderr)
  t.false(fs.existsSync(dir))
})

test('a segment size too small for one record is refused', (t) => {
  const dir = path.join(tempDir(), 'wal')
  const r = walctl(['init', dir, '--segment-size', '97'])
  t.is(r.code, 64)
  t.regex(r.stderr, /too small: a segment needs at least 98 bytes/)
  t.is(walctl(['init', dir, '--segment-size', '98']).code, 0)
  t.is(walctl(['append', dir, 'x']).stdout.trim(), '1:89')
})

test('init refuses a directory that already holds segments', (t) => {
  const dir = walWithRecords()
  const before = snapshot(dir)
  const r = walctl(['init', dir])
  t.is(r.code, 73)
  t.regex(r.stderr, /already holds 1 segment/)
  t.deepEqual(snapshot(dir), before)
})

test('append refuses segments that disagree on their size, naming them', (t) => {
  const dir = walWithRecords()
  walctl(['rotate', dir])
  fs.truncateSync(path.join(dir, 'wal_000001.log'), 2048)
  const before = snapshot(dir)
  const r = walctl(['append', dir, 'x'])
  t.is(r.code, 65)
  t.regex(r.stderr, /wal_000001\.log \(2048 bytes\)/)
  t.deepEqual(snapshot(dir), before)
})

test('empty arguments and nothing to append are refused before writing', (t) => {
  const dir = walWithRecords()
  const before = snapshot(dir)
  t.is(walctl(['append', dir]).code, 64)
  const r = walctl(['append', dir, 'ok', ''])
  t.is(r.code, 65)
  t.regex(r.stderr, /argument 2 is empty/)
  t.deepEqual(snapshot(dir), before)
})

test('errors keep their exit code under --json', (t) => {
  const missing = path.join(tempDir(), 'nope')
  const r = walctl(['append', missing, 'x', '--json'])
  t.is(r.code, 66)
  const body = JSON.parse(r.stdout) as {error: {exitCode: number; message: string; file: string}}
  t.is(body.error.exitCode, 66)
  t.is(body.error.file, missing)
  const u = walctl(['init', missing, '--segment-size', '12XB', '--json'])
  t.is(u.code, 64)
})

function walctlAs(uid: number, args: string[]) {
  // The user's own home, so that oclif does not try to read root's.
  const home = tempDir()
  fs.chmodSync(home, 0o777)
  return walctl(args, {uid, env: {HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home}})
}

test('init where a parent is a regular file: exit 73, cannot create', (t) => {
  const file = path.join(tempDir(), 'plain')
  fs.writeFileSync(file, 'x')
  const r = walctl(['init', path.join(file, 'wal')])
  t.is(r.code, 73, r.stderr)
  t.regex(r.stderr, /cannot create directory: not a directory/)
  oneLine(t, r.stderr)
})

test('an I/O error names its code once', (t) => {
  const dir = walWithRecords()
  const r = walctl(['append', dir, '--file', '/proc/self/mem'])
  t.is(r.code, 74)
  t.regex(r.stderr, /\/proc\/self\/mem: cannot read: EIO: i\/o error/)
  t.notRegex(r.stderr, /EIO: EIO/)
})
