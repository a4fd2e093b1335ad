// SIGINT, SIGTERM and SIGHUP through real processes: a writer stops at a safe
// point within about a second, exits 128 + the signal with one line on
// stderr, releases the lock and loses nothing it acknowledged; a recover
// stopped half-way is finished by running it again.
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {BIN, walctl, validPositions} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Milliseconds from the signal to the exit. */
  afterSignalMs: number
}

/** Starts walctl, sends `signal` `delayMs` after `ready()` holds (polled), and waits for the exit. */
function runAndSignal(args: string[], signal: NodeJS.Signals, delayMs: number, ready: () => boolean, feed?: (stdin: NodeJS.WritableStream) => () => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, NO_COLOR: '1'}})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.stdin.on('error', () => undefined)
    const stopFeeding = feed ? feed(child.stdin) : () => child.stdin.end()
    let sentAt = 0
    let timer: NodeJS.Timeout | undefined
    const poll = setInterval(() => {
      if (!ready()) return
      clearInterval(poll)
      timer = setTimeout(() => {
        sentAt = Date.now()
        child.kill(signal)
      }, delayMs)
    }, 10)
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code, sig) => {
      clearInterval(poll)
      clearTimeout(timer)
      clearTimeout(guard)
      stopFeeding()
      resolve({code, signal: sig, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), afterSignalMs: sentAt ? Date.now() - sentAt : -1})
    })
  })
}

/** `count` segments of 128 KiB, each with 50 records and a torn tail: a repairable WAL whose recover takes seconds. */
function slowRepairableWal(count: number): string {
  const dir = path.join(tempDir('walctl-signals-'), 'wal')
  const manager = WalManager.init(dir, {segmentSize: 128 * 1024})
  for (let i = 0; i < 50; i++) manager.append(Buffer.from(`record ${i} `.padEnd(200, '.')))
  manager.close()
  const first = path.join(dir, 'wal_000001.log')
  const bytes = fs.readFileSync(first)
  const end = 89 + 50 * 208
  bytes.writeUInt32LE(40, end)
  bytes[end + 8] = 1
  fs.writeFileSync(first, bytes)
  for (let id = 2; id <= count; id++) fs.writeFileSync(path.join(dir, `wal_${String(id).padStart(6, '0')}.log`), bytes)
  return dir
}


test.serial('SIGTERM during recover: exit 143 within about a second, lock released, a second recover finishes the repair', async (t) => {
  const wal = slowRepairableWal(200)
  // Once the lock exists the command has its handlers and is at work.
  const run = await runAndSignal(['recover', wal], 'SIGTERM', 300, () => fs.existsSync(path.join(wal, '.walctl.lock')))
  t.is(run.code, 143, run.stderr)
  t.true(run.afterSignalMs < 2000, `exited ${run.afterSignalMs} ms after the signal`)
  const lines = run.stderr.trim().split('\n')
  t.is(lines.length, 1, run.stderr)
  t.regex(lines[0], /^walctl: interrupted by SIGTERM; /)
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')), 'the lock is released')
  // Whatever was reached, the WAL is still the repairable one or partly repaired: never damaged.
  const mid = walctl(['verify', wal, '--json'])
  t.true(mid.code === 0 || mid.code === 1, mid.stdout.slice(0, 300))
  for (const q of fs.existsSync(path.join(wal, 'quarantine')) ? fs.readdirSync(path.join(wal, 'quarantine')) : []) {
    const report = path.join(wal, 'quarantine', q, 'report.json')
    if (fs.existsSync(report)) t.regex(fs.readFileSync(report, 'utf8'), /"status": ?"interrupted"/)
  }
  const again = walctl(['recover', wal], {timeoutMs: 120_000})
  t.is(again.code, 0, again.stderr)
  const after = walctl(['verify', wal, '--json'])
  t.is(after.code, 0, after.stdout.slice(0, 300))
  t.is((JSON.parse(after.stdout) as {records: number}).records, 200 * 50)
})

test.serial('SIGINT during append --stdin from a pipe that keeps writing: exit 130, every printed position is in the WAL', async (t) => {
  const wal = path.join(tempDir(), 'wal')
  t.is(walctl(['init', wal, '--segment-size', '64KiB']).code, 0)
  let n = 0
  const run = await runAndSignal(['append', wal, '--stdin', '--batch-ms', '20'], 'SIGINT', 300, () => fs.existsSync(path.join(wal, '.walctl.lock')), (stdin) => {
    const timer = setInterval(() => {
      let chunk = ''
      for (let i = 0; i < 200; i++) chunk += `line ${n++}\n`
      stdin.write(chunk)
    }, 5)
    return () => clearInterval(timer)
  })
  t.is(run.code, 130, run.stderr)
  t.true(run.afterSignalMs < 2000, `exited ${run.afterSignalMs} ms after the signal`)
  t.is(run.stderr.trim().split('\n').length, 1, run.stderr)
  t.regex(run.stderr, /^walctl: interrupted by SIGINT; .*record\(s\) before it were appended and synced/)
  const printed = run.stdout.split('\n').filter(Boolean)
  t.true(printed.length > 100, `printed ${printed.length}`)
  const present = validPositions(wal)
  t.deepEqual(printed.filter((p) => !present.has(p)), [])
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')))
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test.serial('SIGHUP while append --stdin waits on an idle pipe: exit 129 at once, lock released', async (t) => {
  const wal = path.join(tempDir(), 'wal')
  t.is(walctl(['init', wal, '--segment-size', '64KiB']).code, 0)
  const run = await runAndSignal(['append', wal, '--stdin'], 'SIGHUP', 300, () => fs.existsSync(path.join(wal, '.walctl.lock')), (stdin) => {
    stdin.write('one\ntwo\n')
    return () => undefined
  })
  t.is(run.code, 129, run.stderr)
  t.true(run.afterSignalMs < 2000, `exited ${run.afterSignalMs} ms after the signal`)
  t.regex(run.stderr, /^walctl: interrupted by SIGHUP; /)
  t.is(run.stderr.trim().split('\n').length, 1, run.stderr)
  t.deepEqual(run.stdout.split('\n').filter(Boolean), ['1:89', '1:100'])
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')))
  t.deepEqual([...validPositions(wal)], ['1:89', '1:100'])
})

test.serial('SIGTERM during gc --archive: exit 143 between two removals, a durable prefix archived and gone, lock released', async (t) => {
  const wal = path.join(tempDir('walctl-signals-'), 'wal')
  const manager = WalManager.init(wal, {segmentSize: 1024 * 1024})
  for (let id = 1; id < 80; id++) {
    manager.append(Buffer.from(`segment ${id}`))
    manager.rotate()
  }
  manager.close()
  const archive = path.join(tempDir('walctl-signals-'), 'archive')
  const archived = (): number => (fs.existsSync(archive) ? fs.readdirSync(archive).filter((n) => /^wal_\d+\.log$/.test(n)).length : 0)
  const run = await runAndSignal(['gc', wal, '--keep', '1', '--archive', archive], 'SIGTERM', 0, () => archived() >= 2)
  t.is(run.code, 143, run.stderr)
  t.true(run.afterSignalMs < 2000, `exited ${run.afterSignalMs} ms after the signal`)
  t.regex(run.stderr, /^walctl: interrupted by SIGTERM; gc stopped between two removals; .* were archived, a prefix, durably\n$/)
  const left = fs.readdirSync(wal).filter((n) => /^wal_\d+\.log$/.test(n)).sort()
  const gone = fs.readdirSync(archive).filter((n) => /^wal_\d+\.log$/.test(n)).sort()
  t.true(left.length > 1 && gone.length >= 2, `${gone.length} archived, ${left.length} left`)
  t.deepEqual([...gone, ...left], Array.from({length: 80}, (_, i) => `wal_${String(i + 1).padStart(6, '0')}.log`), 'a prefix went, nothing twice, no gap')
  t.deepEqual(fs.readdirSync(archive).filter((n) => n.startsWith('.')), [], 'no temporary left')
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')))
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test.serial('SIGTERM during restore: exit 143 within about a second, and the directory holds nothing: no segment, no temporary', async (t) => {
  const wal = path.join(tempDir('walctl-signals-'), 'wal')
  const manager = WalManager.init(wal, {segmentSize: 4 * 1024 * 1024})
  const record = Buffer.alloc(4000, 7)
  for (let i = 0; i < 50_000; i++) manager.append(record)
  manager.close()
  const target = `file://${path.join(tempDir('walctl-signals-'), 'archive')}`
  const archived = walctl(['archive', wal, '--to', target])
  t.is(archived.code, 0, archived.stderr)
  const dir = path.join(tempDir('walctl-signals-'), 'restored')
  const temporaries = (): number => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')).length : 0)
  const run = await runAndSignal(['restore', target, dir], 'SIGTERM', 0, () => temporaries() >= 2)
  t.is(run.code, 143, run.stderr)
  t.true(run.afterSignalMs < 2000, `exited ${run.afterSignalMs} ms after the signal`)
  t.regex(run.stderr, /^walctl: interrupted by SIGTERM; nothing was restored: the segments downloaded so far were temporary files, removed\n$/)
  t.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], 'no segment and no temporary in the directory')
})

/** The temporaries of walctl's own in `dir` (createFileAtomic's `.NAME.walctl-PID-HEX.tmp`). */
function temporaries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')) : []
}

// init and rotate write a whole segment synchronously; a signal that comes meanwhile is handled once that
// work is done. The segment is then complete (it was made through a temporary), and the exit code must
// still say that a signal came (README: "they finish the segment being created ... and exit 128 + n").
// 512 MiB of zeros take some 100 ms to write, while the temporary is polled for every 10 ms; the WAL is
// removed at the end of each test, so that the suite never holds more than a segment or two of them.
const BIG = 512 * 1024 * 1024

test.serial('SIGTERM while init writes a 512 MiB segment: the segment is complete, no temporary is left, exit 143', async (t) => {
  const wal = path.join(tempDir('walctl-signals-'), 'wal')
  t.teardown(() => fs.rmSync(wal, {recursive: true, force: true}))
  const run = await runAndSignal(['init', wal, '--segment-size', '512MiB'], 'SIGTERM', 0, () => temporaries(wal).length > 0)
  t.true(run.afterSignalMs >= 0, 'the signal was sent while the temporary was there')
  t.is(run.code, 143, `${run.stdout}${run.stderr}`)
  t.regex(run.stderr, /walctl: interrupted by SIGTERM; it arrived as the command finished its work, which is complete\n$/)
  t.deepEqual(temporaries(wal), [])
  t.deepEqual(fs.readdirSync(wal).filter((n) => !n.startsWith('.')), ['wal_000001.log'])
  t.is(fs.statSync(path.join(wal, 'wal_000001.log')).size, BIG)
  t.is(walctl(['verify', wal, '-q']).code, 0)
})

test.serial('SIGTERM while rotate writes a 512 MiB segment: both segments whole, lock released, exit 143', async (t) => {
  const wal = path.join(tempDir('walctl-signals-'), 'wal')
  t.teardown(() => fs.rmSync(wal, {recursive: true, force: true}))
  t.is(walctl(['init', wal, '--segment-size', '512MiB']).code, 0)
  t.is(walctl(['append', wal, 'before the rotation']).code, 0)
  const run = await runAndSignal(['rotate', wal], 'SIGTERM', 0, () => temporaries(wal).length > 0)
  t.true(run.afterSignalMs >= 0, 'the signal was sent while the temporary was there')
  t.is(run.code, 143, `${run.stdout}${run.stderr}`)
  t.regex(run.stderr, /walctl: interrupted by SIGTERM; it arrived as the command finished its work, which is complete\n$/)
  t.deepEqual(temporaries(wal), [])
  t.false(fs.existsSync(path.join(wal, '.walctl.lock')))
  t.deepEqual(fs.readdirSync(wal).filter((n) => !n.startsWith('.')).sort(), ['wal_000001.log', 'wal_000002.log'])
  t.is(walctl(['verify', wal, '-q']).code, 0)
})
