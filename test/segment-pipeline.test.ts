// The segment pipeline (src/core/write/segment-pipeline.ts): the next segment
// is prepared in the background as a temporary of walctl's own, and a
// rotation moves it into place. Real files, real tmpfs mounts, real processes.
import {ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test, {ExecutionContext} from 'ava'
import {listWal} from '../src/core/read/directory.js'
import {WalManager} from '../src/core/write/manager.js'
import {verifyWal} from '../src/core/read/verify.js'
import {BIN, walctl, validPositions} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

const MiB = 1024 * 1024
const TEMP = /^\.wal_(\d{6})\.log\.walctl-(\d+)-[0-9a-f]{16}\.tmp$/

function temporaries(wal: string): string[] {
  return fs.readdirSync(wal).filter((n) => TEMP.test(n))
}

/** A fresh tmpfs of `size`, unmounted when the test ends. */
function disk(t: ExecutionContext, size: string): string {
  const dir = tempDir('walctl-pipeline-')
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`)
  t.teardown(() => {
    spawnSync('umount', [dir])
  })
  return dir
}

/** Lines of 100 bytes (101 with the newline), numbered from `from`. */
function lines(count: number, from = 0): string {
  return Array.from({length: count}, (_, i) => `record ${String(from + i).padStart(7, '0')} `.padEnd(100, 'x')).join('\n') + '\n'
}


/** `walctl append WAL --stdin` whose standard input the test writes to and closes. */
function appender(wal: string, extra: string[] = []): {child: ChildProcessWithoutNullStreams; done: Promise<{code: number | null; signal: string | null; stdout: string; stderr: string}>} {
  const child = spawn(process.execPath, [BIN, 'append', wal, '--stdin', ...extra], {env: {...process.env, NO_COLOR: '1'}})
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.on('data', (d: Buffer) => err.push(d))
  // A killed child's pipe: what was still being written to it is lost, as intended.
  child.stdin.on('error', () => {})
  const done = new Promise<{code: number | null; signal: string | null; stdout: string; stderr: string}>((resolve) => {
    child.on('close', (code, signal) => resolve({code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}))
  })
  return {child, done}
}

/** Waits (polling) until `f` holds, for at most 30 s. */
async function until(f: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !f(); ) {
    if (Date.now() - started > 30_000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A prepared temporary that is complete: its full size and every block allocated. */
function complete(file: string, size: number): boolean {
  const st = fs.statSync(file, {throwIfNoEntry: false})
  return st !== undefined && st.size === size && st.blocks * 512 >= size
}

test('a rotation moves the prepared segment into place: the same file, its temporary gone, readers never take it for a segment', (t) => {
  const wal = path.join(tempDir(), 'w')
  const m = WalManager.init(wal, {segmentSize: MiB})
  const rec = Buffer.alloc(100, 0x61)
  let temp: string | undefined
  for (let i = 0; !temp && i < 10_000; i++) {
    m.append(rec)
    if (i % 256 === 0) temp = temporaries(wal)[0]
  }
  t.truthy(temp, 'the next segment is being prepared while the first fills')
  const [, id, pid] = TEMP.exec(temp!)!
  t.is(id, '000002')
  t.is(Number(pid), process.pid)
  const listing = listWal(wal)
  t.deepEqual(listing.segments.map((s) => s.name), ['wal_000001.log'])
  t.deepEqual(listing.strays.map((s) => [s.name, s.kind]), [[temp, 'temporary']])
  const inode = fs.statSync(path.join(wal, temp!)).ino
  let records = 0
  while (m.current().id === 1) {
    m.append(rec)
    records++
  }
  const second = path.join(wal, 'wal_000002.log')
  t.is(fs.statSync(second).ino, inode, 'the rotation used the prepared file')
  t.false(fs.existsSync(path.join(wal, temp!)))
  t.is(fs.statSync(second).size, MiB)
  m.close()
  t.deepEqual(temporaries(wal), [], 'close removes the one prepared for segment 3')
  const v = verifyWal(wal)
  t.is(v.verdict, 'clean')
  t.true(v.records > records)
})

test('close removes a prepared temporary that was never used', (t) => {
  const wal = path.join(tempDir(), 'w')
  const m = WalManager.init(wal, {segmentSize: MiB})
  const rec = Buffer.alloc(100, 0x62)
  for (let i = 0; i < 6000; i++) m.append(rec)
  t.is(temporaries(wal).length, 1)
  m.close()
  t.deepEqual(fs.readdirSync(wal).filter((n) => n !== 'wal_000001.log'), [])
})

test.serial('a killed writer\'s prepared segment is removed by the next writer; a live process\'s temporary and a link are left', async (t) => {
  const wal = path.join(tempDir(), 'w')
  t.is(walctl(['init', wal, '--segment-size', '1MiB']).code, 0)
  const {child, done} = appender(wal, ['--batch-records', '100'])
  child.stdin.write(lines(6000))
  await until(() => temporaries(wal).length === 1, 'the prepared temporary')
  const [killed] = temporaries(wal)
  t.is(Number(TEMP.exec(killed)![2]), child.pid)
  child.kill('SIGKILL')
  const r = await done
  t.is(r.signal, 'SIGKILL')
  t.true(fs.existsSync(path.join(wal, killed)), 'a killed writer leaves it')
  // Left alone: a temporary whose process runs (this one), and a link named like a dead one's.
  const live = `.wal_000002.log.walctl-${process.pid}-0123456789abcdef.tmp`
  fs.writeFileSync(path.join(wal, live), 'x')
  const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
  const link = `.wal_000002.log.walctl-${deadPid}-fedcba9876543210.tmp`
  fs.symlinkSync('/etc/passwd', path.join(wal, link))
  const next = walctl(['append', wal, 'after the kill'])
  t.is(next.code, 0, next.stderr)
  t.false(fs.existsSync(path.join(wal, killed)), 'the next writer removed it')
  t.true(fs.existsSync(path.join(wal, live)))
  t.true(fs.lstatSync(path.join(wal, link)).isSymbolicLink())
  fs.unlinkSync(path.join(wal, live))
  fs.unlinkSync(path.join(wal, link))
  t.deepEqual(fs.readdirSync(wal).filter((n) => !/^wal_\d{6}\.log$/.test(n)), [])
  const v = walctl(['verify', wal, '--json'])
  t.is(v.code, 0, v.stdout)
})

test.serial('the prepared segment is allocated before it is used: a disk filled meanwhile is no SIGBUS and no refusal', async (t) => {
  const root = disk(t, '3m')
  const wal = path.join(root, 'wal')
  t.is(walctl(['init', wal, '--segment-size', '1MiB']).code, 0)
  const {child, done} = appender(wal, ['--batch-records', '100'])
  child.stdin.write(lines(6000))
  await until(() => temporaries(wal).length === 1 && complete(path.join(wal, temporaries(wal)[0]), MiB), 'a complete prepared segment')
  // Every byte of the disk taken now.
  const filler = fs.openSync(path.join(root, 'filler'), 'w')
  const chunk = Buffer.alloc(4096, 1)
  try {
    for (;;) fs.writeSync(filler, chunk)
  } catch (error) {
    t.is((error as NodeJS.ErrnoException).code, 'ENOSPC')
  }
  fs.closeSync(filler)
  // On into segment 2 and well into it.
  child.stdin.end(lines(8000, 6000))
  const r = await done
  t.is(r.signal, null, r.stderr)
  t.is(r.code, 0, r.stderr)
  const printed = r.stdout.split('\n').filter(Boolean)
  t.is(printed.length, 14_000)
  t.true(printed.some((p) => p.startsWith('2:')), 'it rotated')
  const present = validPositions(wal)
  t.is(printed.filter((p) => !present.has(p)).length, 0)
  t.deepEqual(fs.readdirSync(wal).filter((n) => !/^wal_\d{6}\.log$/.test(n)), [])
})

test.serial('no room to prepare the next segment: exit 74 at the rotation that needs it, every acknowledged record kept, nothing left', (t) => {
  const root = disk(t, '1600k')
  const wal = path.join(root, 'wal')
  t.is(walctl(['init', wal, '--segment-size', '1MiB']).code, 0)
  const file = path.join(tempDir(), 'input.txt')
  fs.writeFileSync(file, lines(12_000))
  const fd = fs.openSync(file, 'r')
  let r: ReturnType<typeof spawnSync>
  try {
    r = spawnSync(process.execPath, [BIN, 'append', wal, '--stdin', '--batch-records', '100'], {stdio: [fd, 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}, timeout: 60_000})
  } finally {
    fs.closeSync(fd)
  }
  const stderr = r.stderr.toString()
  t.is(r.signal, null, stderr)
  t.is(r.status, 74, stderr)
  t.is(stderr.trim().split('\n').length, 1, stderr)
  t.regex(stderr, /no space left on device/)
  const printed = r.stdout.toString().split('\n').filter(Boolean)
  // Segment 1 was filled before the rotation failed: about 9,700 records of 100 B fit in 1 MiB.
  t.true(printed.length > 9000, `printed ${printed.length}`)
  t.true(printed.every((p) => p.startsWith('1:')))
  const present = validPositions(wal)
  t.is(printed.filter((p) => !present.has(p)).length, 0, 'every acknowledged position is in the WAL')
  t.deepEqual(fs.readdirSync(wal), ['wal_000001.log'], 'no temporary, no lock, no half-made segment')
})

test.serial('the prepared segment takes the owner, group and mode of the newest segment', (t) => {
  const wal = path.join(tempDir(), 'w')
  t.is(walctl(['init', wal, '--segment-size', '1MiB']).code, 0)
  const first = path.join(wal, 'wal_000001.log')
  fs.chownSync(first, 65534, 65534)
  fs.chmodSync(first, 0o640)
  const r = walctl(['append', wal, '--stdin', '--batch-records', '1000'], {input: lines(15_000)})
  t.is(r.code, 0, r.stderr)
  const second = fs.statSync(path.join(wal, 'wal_000002.log'))
  t.is(second.uid, 65534)
  t.is(second.gid, 65534)
  t.is(second.mode & 0o777, 0o640)
  t.deepEqual(fs.readdirSync(wal).filter((n) => !/^wal_\d{6}\.log$/.test(n)), [])
})

test('verify tells a segment a live walctl is preparing from a temporary a dead one left', (t) => {
  const wal = path.join(tempDir(), 'wal')
  t.is(walctl(['init', wal, '--segment-size', '4KiB']).code, 0)
  // A pid that runs (this test) and one that cannot (above the kernel's pid limit).
  const live = `.wal_000002.log.walctl-${process.pid}-0123456789abcdef.tmp`
  const dead = `.wal_000003.log.walctl-99999999-0123456789abcdef.tmp`
  for (const name of [live, dead]) fs.writeFileSync(path.join(wal, name), Buffer.alloc(4096))
  const r = walctl(['verify', wal, '--json'])
  t.is(r.code, 0, 'temporaries are warnings')
  const messages = new Map((JSON.parse(r.stdout) as {problems: Array<{file: string; message: string}>}).problems.map((p) => [path.basename(p.file), p.message]))
  t.regex(messages.get(live) ?? '', new RegExp(`^a segment walctl \\(pid ${process.pid}\\) is preparing or creating, not yet part of the WAL`))
  t.regex(messages.get(dead) ?? '', /^temporary file left by an interrupted walctl .*the next walctl writer removes it$/)
})

/** Inodes of the files of `dir` this process holds descriptors on (a segment installed from its temporary is listed by that name). */
function openIn(dir: string): number[] {
  const out: number[] = []
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
      if (path.dirname(target) === dir) out.push(fs.statSync(`/proc/self/fd/${fd}`).ino)
    } catch {
      // Closed meanwhile (the readdir's own descriptor).
    }
  }
  return out
}

test('a filled segment is synced off the append path: a sync waits for it, and a long writer holds no descriptor per segment it filled', (t) => {
  const wal = path.join(tempDir('walctl-pipeline-'), 'wal')
  const m = WalManager.init(wal, {segmentSize: MiB})
  const record = Buffer.alloc(1000, 7)
  let last = 1
  for (let i = 0; i < 20_000; i++) last = m.append(record).segment
  t.true(last >= 19, `${last} segments`)
  // The current segment, the one being prepared and at most a couple of seals still running; never one per filled segment.
  const during = openIn(wal)
  t.true(during.length <= 4, `${during.length} open`)
  m.sync()
  const current = fs.statSync(m.current().path).ino
  const temps = new Set(temporaries(wal).map((n) => fs.statSync(path.join(wal, n)).ino))
  t.deepEqual(openIn(wal).filter((ino) => ino !== current && !temps.has(ino)), [], 'every seal ended and its descriptor closed once sync returned')
  m.close()
  t.deepEqual(openIn(wal), [])
  const v = verifyWal(wal, {settleTries: 0})
  t.is(v.verdict, 'clean')
  t.is(v.records, 20_000)
})

test('sealOnRotation false: filled segments wait for the next sync (at most eight held), which makes every one durable', (t) => {
  const wal = path.join(tempDir('walctl-pipeline-'), 'wal')
  const m = WalManager.init(wal, {segmentSize: MiB, sealOnRotation: false})
  const record = Buffer.alloc(1000, 9)
  for (let i = 0; i < 5_000; i++) m.append(record)
  // Four rotations, no sync: the four filled segments are still held, unsynced.
  const held = (): number[] => openIn(wal).filter((ino) => ino !== fs.statSync(m.current().path).ino && !new Set(temporaries(wal).map((n) => fs.statSync(path.join(wal, n)).ino)).has(ino))
  t.is(m.segments.length, 5)
  t.is(held().length, 4)
  for (let i = 0; i < 15_000; i++) m.append(record)
  t.true(m.segments.length >= 19)
  t.true(held().length <= 8 + 2, `${held().length} held: the oldest are sealed past eight`)
  m.sync()
  t.deepEqual(held(), [], 'sync sealed every one')
  m.close()
  t.deepEqual(openIn(wal), [])
  t.is(verifyWal(wal, {settleTries: 0}).records, 20_000)
})
