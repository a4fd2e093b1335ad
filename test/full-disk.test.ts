// A full disk through real processes on a real 2 MiB tmpfs: appending into a
// sparse segment (as Shardex's set_len, `truncate` or a sparse copy make them)
// used to die of SIGBUS (exit 135, no message, lock left). Now it is exit 74
// naming the file and what is durable, with nothing acknowledged lost.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {BIN, walctl, validPositions} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

/** A fresh 2 MiB tmpfs, unmounted when the test ends. */
function smallDisk(t: ExecutionContext): string {
  const dir = tempDir('walctl-fulldisk-')
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir])
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`)
  t.teardown(() => {
    spawnSync('umount', [dir])
  })
  return dir
}

/** A WAL whose only segment is `size` bytes but sparse: its header written, the rest a hole. */
function sparseWal(disk: string, size: number): string {
  const wal = path.join(disk, 'wal')
  const scratch = tempDir()
  const made = walctl(['init', path.join(scratch, 'w'), '--segment-size', '128KiB'])
  if (made.code !== 0) throw new Error(made.stderr)
  fs.mkdirSync(wal)
  const seg = path.join(wal, 'wal_000001.log')
  fs.writeFileSync(seg, fs.readFileSync(path.join(scratch, 'w', 'wal_000001.log')).subarray(0, 89))
  fs.truncateSync(seg, size)
  return wal
}

function blocks(file: string): number {
  return fs.statSync(file).blocks * 512
}

/** Lines of 100 bytes, `count` of them. */
function lines(count: number): string {
  return Array.from({length: count}, (_, i) => `record ${String(i).padStart(6, '0')} `.padEnd(99, 'x')).join('\n') + '\n'
}

/** `walctl append WAL --stdin ...extra` reading a file as standard input (walctl may stop reading it early). */
function appendFromFile(wal: string, input: string, extra: string[] = []): {code: number; stdout: string; stderr: string} {
  const file = path.join(tempDir(), 'input.txt')
  fs.writeFileSync(file, input)
  const fd = fs.openSync(file, 'r')
  try {
    const r = spawnSync(process.execPath, [BIN, 'append', wal, '--stdin', ...extra], {stdio: [fd, 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}, timeout: 60_000, maxBuffer: 1 << 28})
    return {code: r.status ?? (r.signal ? -1 : -2), stdout: r.stdout.toString(), stderr: `${r.stderr.toString()}${r.signal ? `[killed by ${r.signal}]` : ''}`}
  } finally {
    fs.closeSync(fd)
  }
}


test.serial('a sparse segment larger than the free space: exit 74 naming it, no SIGBUS, no lock, the WAL still clean', (t) => {
  const disk = smallDisk(t)
  const wal = sparseWal(disk, 4 * 1024 * 1024)
  const seg = path.join(wal, 'wal_000001.log')
  t.true(blocks(seg) < 64 * 1024, 'the segment is sparse')
  // Enough records to run far past the 2 MiB of the disk through the mapping.
  const r = appendFromFile(wal, lines(40_000))
  t.is(r.code, 74, r.stderr)
  t.is(r.stdout, '')
  const lineOut = r.stderr.trim().split('\n')
  t.is(lineOut.length, 1, r.stderr)
  t.regex(r.stderr, /wal_000001\.log/)
  t.regex(r.stderr, /no space left on device/)
  t.regex(r.stderr, /last durable record ends at offset 89/)
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')), 'the lock is released')
  t.deepEqual(fs.readdirSync(wal).filter((f) => f !== 'wal_000001.log'), [], 'nothing else left in the WAL directory')
  const v = walctl(['verify', wal, '--json'])
  t.is(v.code, 0, v.stdout)
  t.is((JSON.parse(v.stdout) as {records: number}).records, 0)
})

test.serial('a full disk during rotation: exit 74, every position printed before is in the WAL, no half-made segment', (t) => {
  const disk = smallDisk(t)
  // A 512 KiB sparse first segment, then rotations to fully written 512 KiB segments until the disk is full.
  const wal = sparseWal(disk, 512 * 1024)
  const r = appendFromFile(wal, lines(40_000), ['--batch-records', '100'])
  t.is(r.code, 74, r.stderr)
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.regex(r.stderr, /no space left on device/)
  t.regex(r.stderr, /record\(s\) before it were appended and synced, the last at \d+:\d+/)
  const printed = r.stdout.split('\n').filter(Boolean)
  t.true(printed.length > 5000, `printed ${printed.length}`)
  const present = validPositions(wal)
  t.is(printed.filter((p) => !present.has(p)).length, 0, 'every acknowledged position is in the WAL')
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')))
  t.deepEqual(fs.readdirSync(wal).filter((f) => !/^wal_\d{6}\.log$/.test(f)), [], 'no temporary or lock left')
  const v = walctl(['verify', wal, '--json'])
  t.is(v.code, 0, v.stdout)
  t.is((JSON.parse(v.stdout) as {records: number}).records, present.size)
})

test.serial('the page holding the write pointer keeps its records when the holes behind it are allocated', (t) => {
  const disk = tempDir()
  const wal = sparseWal(disk, 1024 * 1024)
  const first = walctl(['append', wal, 'a', 'bb', 'ccc'])
  t.is(first.code, 0, first.stderr)
  const seg = path.join(wal, 'wal_000001.log')
  // Punch the file sparse again behind the records: a sparse copy keeps them and drops the zero pages.
  const copy = `${seg}.sparse`
  t.is(spawnSync('cp', ['--sparse=always', seg, copy]).status, 0)
  fs.renameSync(copy, seg)
  t.true(blocks(seg) < 1024 * 1024)
  const second = walctl(['append', wal, 'dddd'])
  t.is(second.code, 0, second.stderr)
  t.true(blocks(seg) >= 1024 * 1024, 'the holes are allocated')
  t.deepEqual([...validPositions(wal)], ['1:89', '1:98', '1:108', '1:119'])
  const v = walctl(['verify', wal, '--json'])
  t.is(v.code, 0, v.stdout)
  t.is((JSON.parse(v.stdout) as {records: number}).records, 4)
})

test.serial('rotate on a full disk: exit 74 naming what is durable, no temporary left, the WAL still clean', (t) => {
  const disk = smallDisk(t)
  const wal = path.join(disk, 'wal')
  t.is(walctl(['init', wal, '--segment-size', '768KiB']).code, 0)
  t.is(walctl(['append', wal, 'kept']).stdout, '1:89\n')
  t.is(walctl(['rotate', wal]).code, 0)
  const r = walctl(['rotate', wal])
  t.is(r.code, 74, r.stderr)
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.regex(r.stderr, /no space left on device; no segment was created: the newest is still wal_000002\.log, its last durable record ending at offset 89/)
  t.deepEqual(fs.readdirSync(wal).sort(), ['wal_000001.log', 'wal_000002.log'])
  const v = walctl(['verify', wal, '--json'])
  t.is(v.code, 0, v.stdout)
  t.is((JSON.parse(v.stdout) as {records: number}).records, 1)
})

test.serial('a sparse segment whose size is not a whole number of pages is allocated to its last byte', (t) => {
  const wal = sparseWal(tempDir(), 3 * 4096 + 1000)
  const seg = path.join(wal, 'wal_000001.log')
  t.true(blocks(seg) < 3 * 4096 + 1000)
  const r = walctl(['append', wal, 'x'.repeat(3 * 4096)])
  t.is(r.code, 0, r.stderr)
  t.true(blocks(seg) >= 3 * 4096 + 1000)
  t.is(fs.statSync(seg).size, 3 * 4096 + 1000)
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test('a disk too full for the lock\'s few bytes: every writer refuses with one line, and no lock file, empty or not, is left', (t) => {
  const disk = smallDisk(t)
  const wal = path.join(disk, 'wal')
  t.is(walctl(['init', wal, '--segment-size', '64KiB']).code, 0)
  t.is(walctl(['append', wal, 'before the disk filled']).code, 0)
  // Fill every block that is left.
  const fd = fs.openSync(path.join(disk, 'filler'), 'w')
  try {
    const chunk = Buffer.alloc(4096, 1)
    for (;;) fs.writeSync(fd, chunk)
  } catch (error) {
    t.is((error as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    fs.closeSync(fd)
  }
  const before = fs.readFileSync(path.join(wal, 'wal_000001.log'))
  for (const args of [['append', wal, 'x'], ['rotate', wal], ['recover', wal], ['gc', wal, '--keep', '1']]) {
    const r = walctl(args)
    t.true(r.code === 73 || r.code === 74, `${args[0]}: exit ${r.code} ${r.stderr}`)
    t.regex(r.stderr, /^walctl: [^\n]*\.walctl\.lock[^\n]*no space left on device\n$/, args[0])
    t.deepEqual(fs.readdirSync(wal).sort(), ['wal_000001.log'], `${args[0]} leaves no lock and no temporary`)
  }
  t.true(fs.readFileSync(path.join(wal, 'wal_000001.log')).equals(before))
})
