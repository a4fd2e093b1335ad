// The writer lock: the library (lock.ts) in this process, and the commands in
// real child processes: refused writers (exit 75, naming the holder), --wait,
// and takeover of the lock of a writer killed with SIGKILL.
import {ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import test from 'ava'
import {listWal} from '../src/core/read/directory.js'
import {
  acquireWriterLock, describeTakeover, LOCK_FILE, LOCK_MUTEX, LockedError, LockHolder, readLockHolder, tryAcquireWriterLock,
} from '../src/core/maintain/lock.js'
import {WalManager} from '../src/core/write/manager.js'
import {BIN, walctl, walctlAsync} from './helpers/cli.js'
import {snapshot, tempDir} from './helpers/fixtures.js'

function newWal(): string {
  const dir = path.join(tempDir('walctl-lock-'), 'wal')
  WalManager.init(dir, {segmentSize: 4096}).close()
  return dir
}

/** The pid of a process that has certainly exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''])
  return r.pid!
}

function writeHolder(dir: string, holder: Partial<LockHolder>): void {
  const full = {pid: process.pid, host: os.hostname(), command: 'walctl append ./wal --stdin', since: '2026-11-24T01:02:03.000Z', token: 'feedface', ...holder}
  fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(full))
}

// The library

test('acquire writes the holder (pid, host, command, since); a second acquire is refused naming it; release removes every lock file', async (t) => {
  const dir = newWal()
  const lock = await acquireWriterLock(dir, {command: 'walctl test one'})
  const holder = readLockHolder(dir)!
  t.is(holder.pid, process.pid)
  t.is(holder.host, os.hostname())
  t.is(holder.command, 'walctl test one')
  t.true(Math.abs(Date.parse(holder.since) - Date.now()) < 60_000)
  t.deepEqual(listWal(dir).strays, [], 'the lock files are walctl\'s own, not strays')
  const e = t.throws(() => tryAcquireWriterLock(dir, {command: 'walctl test two'}), {instanceOf: LockedError})
  t.is(e?.exitCode, 75)
  t.is(e?.holder?.token, holder.token)
  t.is(e?.file, path.join(dir, LOCK_FILE))
  // Only the first two words (walctl and its subcommand) are ever shown: a lock file's arguments could be data.
  t.true(e!.message.includes(`pid ${process.pid} on host ${os.hostname()} ('walctl test', since ${holder.since}`), e!.message)
  lock.release()
  lock.release()
  t.deepEqual(fs.readdirSync(dir), ['wal_000001.log'])
  const again = tryAcquireWriterLock(dir, {command: 'walctl test three'})
  t.is(again.takenOver, undefined)
  again.release()
})

test('waiting: an acquire with waitMs gets the lock once the holder releases it; without enough wait it says how long it waited', async (t) => {
  const dir = newWal()
  const first = await acquireWriterLock(dir, {command: 'first'})
  const e = await t.throwsAsync(acquireWriterLock(dir, {command: 'impatient', waitMs: 50}), {instanceOf: LockedError})
  t.regex(e!.message, /still held after waiting 0\.05s/)
  const waiting = acquireWriterLock(dir, {command: 'second', waitMs: 30_000})
  setTimeout(() => first.release(), 100)
  const second = await waiting
  t.is(readLockHolder(dir)?.command, 'second')
  second.release()
})

test('a lock left by a process that is gone is taken over, and says whose it was', (t) => {
  const dir = newWal()
  const pid = deadPid()
  writeHolder(dir, {pid, command: 'walctl append ./wal --stdin'})
  const lock = tryAcquireWriterLock(dir, {command: 'next'})
  t.is(lock.takenOver?.reason, 'not-running')
  t.is(lock.takenOver?.previous?.pid, pid)
  t.is(describeTakeover(lock.takenOver!), `took over the writer lock left by pid ${pid} on host ${os.hostname()} ('walctl append', since 2026-11-24T01:02:03.000Z, ${describeAgo('2026-11-24T01:02:03.000Z')} ago): that process is no longer running`)
  t.is(readLockHolder(dir)?.command, 'next')
  lock.release()
  t.is(readLockHolder(dir), undefined)
})

function describeAgo(since: string): string {
  const s = Math.round((Date.now() - Date.parse(since)) / 1000)
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172_800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86_400)}d`
}

test('a live pid that started after the lock was taken (a reused pid), or a lock from before a reboot, is taken over', (t) => {
  const dir = newWal()
  writeHolder(dir, {pid: process.pid, startTime: '1'})
  const reused = tryAcquireWriterLock(dir, {command: 'a'})
  t.is(reused.takenOver?.reason, 'pid-reused')
  reused.release()
  writeHolder(dir, {pid: process.pid, bootId: '00000000-0000-0000-0000-000000000000'})
  const rebooted = tryAcquireWriterLock(dir, {command: 'b'})
  t.is(rebooted.takenOver?.reason, 'rebooted')
  rebooted.release()
})

test('a live holder on this host is never taken over, nor a holder on another host, whose message says what to remove', (t) => {
  const dir = newWal()
  writeHolder(dir, {pid: process.ppid})
  t.throws(() => tryAcquireWriterLock(dir, {command: 'x'}), {instanceOf: LockedError})
  writeHolder(dir, {pid: deadPid(), host: 'elsewhere.example'})
  const e = t.throws(() => tryAcquireWriterLock(dir, {command: 'x'}), {instanceOf: LockedError})
  t.regex(e!.message, /on host elsewhere\.example .*cannot tell whether the writer still runs: once it is certainly gone, remove .*\.walctl\.lock$/)
  t.is(readLockHolder(dir)?.host, 'elsewhere.example')
})

test('an unreadable lock file (a crash while writing it) is taken over', (t) => {
  const dir = newWal()
  fs.writeFileSync(path.join(dir, LOCK_FILE), '{"pid": 12')
  const lock = tryAcquireWriterLock(dir, {command: 'x'})
  t.is(lock.takenOver?.reason, 'unreadable')
  t.regex(describeTakeover(lock.takenOver!), /left unreadable by a crash/)
  lock.release()
})

test('release never removes a lock that is no longer ours', (t) => {
  const dir = newWal()
  const lock = tryAcquireWriterLock(dir, {command: 'x'})
  writeHolder(dir, {token: 'someone-else'})
  lock.release()
  t.is(readLockHolder(dir)?.token, 'someone-else')
})

test('a mutex directory left by a crash (older than 5 s) is broken; the lock is then taken normally', (t) => {
  const dir = newWal()
  const mutex = path.join(dir, LOCK_MUTEX)
  fs.mkdirSync(mutex)
  const old = new Date(Date.now() - 60_000)
  fs.utimesSync(mutex, old, old)
  const lock = tryAcquireWriterLock(dir, {command: 'x'})
  t.is(lock.takenOver, undefined)
  lock.release()
  t.deepEqual(fs.readdirSync(dir), ['wal_000001.log'])
})

test('a missing directory: exit 66 naming it', (t) => {
  const dir = path.join(tempDir(), 'nope')
  const e = t.throws(() => tryAcquireWriterLock(dir, {command: 'x'}))
  t.is((e as LockedError).exitCode, 66)
})

// The commands, in real processes

interface Holder {
  child: ChildProcessWithoutNullStreams
  stdout: () => string
  exited: Promise<number | null>
}

/** `walctl append DIR --stdin` that has appended one record and holds the lock, waiting for more input. */
async function startHolder(dir: string): Promise<Holder> {
  const child = spawn(process.execPath, [BIN, 'append', dir, '--stdin', '--batch-ms', '0'], {env: {...process.env, NO_COLOR: '1'}})
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  let err = ''
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  child.stdin.write('held-1\n')
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (out.includes('\n')) resolve()
      else if (child.exitCode !== null) reject(new Error(`holder exited early: ${err}`))
      else setTimeout(check, 20)
    }
    check()
  })
  return {child, stdout: () => out, exited}
}

test('while one append holds the lock, every other writer fails at once with exit 75 naming the holder; readers still work', async (t) => {
  const dir = newWal()
  const holder = await startHolder(dir)
  const pid = holder.child.pid!
  try {
    const [append, appendJson, rotate, init, gc, gcDry, verify, dump] = await Promise.all([
      walctlAsync(['append', dir, 'refused']),
      walctlAsync(['append', dir, 'refused', '--json']),
      walctlAsync(['rotate', dir]),
      walctlAsync(['init', dir]),
      walctlAsync(['gc', dir, '--keep', '1']),
      walctlAsync(['gc', dir, '--keep', '1', '--dry-run']),
      walctlAsync(['verify', dir]),
      walctlAsync(['dump', dir, '--format', 'jsonl']),
    ])
    for (const r of [append, rotate, init, gc]) {
      t.is(r.code, 75, r.stderr)
      t.is(r.stdout, '')
      t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
      t.regex(r.stderr, new RegExp(`^walctl: ${escape(path.join(dir, '.walctl.lock'))}: the WAL is locked by another writer: pid ${pid} on host ${escape(os.hostname())} \\('walctl append', since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, \\d+s ago\\); retry later, or pass --wait SECONDS to wait for it\\n$`))
    }
    t.is(appendJson.code, 75)
    const body = JSON.parse(appendJson.stdout) as {error: {exitCode: number; file: string; message: string}}
    t.is(body.error.exitCode, 75)
    t.is(body.error.file, path.join(dir, '.walctl.lock'))
    t.regex(body.error.message, new RegExp(`pid ${pid} on host`))
    t.is(gcDry.code, 0, gcDry.stderr)
    t.is(verify.code, 0, verify.stdout + verify.stderr)
    t.is(dump.code, 0, dump.stderr)
    t.is(dump.stdout.trim().split('\n').length, 1)
  } finally {
    holder.child.stdin.end()
  }
  t.is(await holder.exited, 0)
  t.false(fs.existsSync(path.join(dir, LOCK_FILE)))
  const records = walctl(['dump', dir, '--format', 'jsonl']).stdout.trim().split('\n')
  t.deepEqual(records.map((l) => Buffer.from((JSON.parse(l) as {data: string}).data, 'hex').toString()), ['held-1'])
})

test('--wait: a writer waits for the holder, then appends after it', async (t) => {
  const dir = newWal()
  const holder = await startHolder(dir)
  const waiting = walctlAsync(['append', dir, 'waited', '--wait', '60'])
  // A writer started with it but without --wait is refused: the holder still holds the lock then.
  const refused = await walctlAsync(['append', dir, 'refused'])
  t.is(refused.code, 75)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  holder.child.stdin.write('held-2\n')
  holder.child.stdin.end()
  t.is(await holder.exited, 0)
  const r = await waiting
  t.is(r.code, 0, r.stderr)
  const data = walctl(['dump', dir, '--format', 'jsonl']).stdout.trim().split('\n').map((l) => Buffer.from((JSON.parse(l) as {data: string}).data, 'hex').toString())
  t.deepEqual(data, ['held-1', 'held-2', 'waited'])
})

test('--wait with a bad value is a usage error (64) and touches nothing', async (t) => {
  const dir = newWal()
  const before = snapshot(dir)
  const r = await walctlAsync(['append', dir, 'x', '--wait', 'forever'])
  t.is(r.code, 64)
  t.regex(r.stderr, /invalid value 'forever' for --wait/)
  t.deepEqual(snapshot(dir), before)
})

test('a writer killed with SIGKILL while holding the lock leaves it; the next writer takes it over and says so', async (t) => {
  const dir = newWal()
  const holder = await startHolder(dir)
  const pid = holder.child.pid!
  holder.child.kill('SIGKILL')
  await holder.exited
  t.is(readLockHolder(dir)?.pid, pid, 'the dead writer\'s lock is still there')
  const r = await walctlAsync(['append', dir, 'after the crash'])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stderr, new RegExp(`^walctl: took over the writer lock left by pid ${pid} on host ${escape(os.hostname())} \\('walctl append', since [^)]+\\): that process is no longer running\\n$`))
  t.false(fs.existsSync(path.join(dir, LOCK_FILE)))
  // What the killed writer had acknowledged is there, and the new record after it.
  const data = walctl(['dump', dir, '--format', 'jsonl']).stdout.trim().split('\n').map((l) => Buffer.from((JSON.parse(l) as {data: string}).data, 'hex').toString())
  t.deepEqual(data, ['held-1', 'after the crash'])
})

test('several writers racing for one dead writer\'s lock: exactly one takes it over', async (t) => {
  const dir = newWal()
  writeHolder(dir, {pid: deadPid()})
  const results = await Promise.all([1, 2, 3, 4].map((i) => walctlAsync(['append', dir, `racer ${i}`, '--wait', '60'])))
  for (const r of results) t.is(r.code, 0, r.stderr)
  t.is(results.filter((r) => r.stderr.includes('took over the writer lock')).length, 1, results.map((r) => r.stderr).join(''))
  t.is(walctl(['dump', dir, '--format', 'jsonl']).stdout.trim().split('\n').length, 4)
})

test('init and rotate take the lock too, and leave no lock file behind', async (t) => {
  const dir = path.join(tempDir(), 'new', 'wal')
  const init = await walctlAsync(['init', dir, '--segment-size', '4KiB', '--wait', '5'])
  t.is(init.code, 0, init.stderr)
  const rotate = await walctlAsync(['rotate', dir, '--wait', '5'])
  t.is(rotate.code, 0, rotate.stderr)
  t.is(rotate.stdout, '2\n')
  t.deepEqual(fs.readdirSync(dir).sort(), ['wal_000001.log', 'wal_000002.log'])
})

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
