// dump --follow: a real child process polls the WAL while other processes
// append to it and rotate it; it prints each new record once, in order, and
// ends on SIGINT with 130 (128 + the signal), like tail -f, after writing out what it read.
import {ChildProcess, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from 'crc'
import {encodeHeader} from '../src/core/format/format.js'
import {BIN, walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

interface Follower {
  child: ChildProcess
  lines: () => Array<{segment: number; offset: number; data: string; kind?: string}>
  /** Resolves once `n` lines are out (or rejects after a generous deadline). */
  waitFor: (n: number) => Promise<void>
  exit: Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>
}

function follow(args: string[]): Follower {
  const child = spawn(process.execPath, [BIN, 'dump', ...args], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  const waiters: Array<() => void> = []
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    for (const w of waiters.splice(0)) w()
  })
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as {segment: number; offset: number; data: string; kind?: string})
  const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>((resolve) => {
    child.on('exit', (code, signal) => resolve({code, signal, stderr: err}))
  })
  const waitFor = async (n: number): Promise<void> => {
    const deadline = Date.now() + 60_000
    while (lines().length < n) {
      if (Date.now() > deadline) throw new Error(`waited for ${n} lines, got ${lines().length}: ${out}\n${err}`)
      if (child.exitCode !== null) throw new Error(`follower exited with ${child.exitCode}: ${err}`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }
  return {child, lines, waitFor, exit}
}

const text = (hex: string): string => Buffer.from(hex, 'hex').toString()

test('--follow prints records appended by another process and records in new segments, then exits 130 on SIGINT', async (t) => {
  const dir = path.join(tempDir(), 'wal')
  t.is(walctl(['init', dir, '--segment-size', '1024']).code, 0)
  t.is(walctl(['append', dir, 'one', 'two']).code, 0)
  const f = follow([dir, '--follow', '--format', 'jsonl', '--interval', '50ms'])
  await f.waitFor(2)
  t.is(walctl(['append', dir, 'three']).code, 0)
  await f.waitFor(3)
  // Rotation by hand, then 900-byte records that each need a segment of their own after the first.
  t.is(walctl(['rotate', dir]).code, 0)
  t.is(walctl(['append', dir, 'four']).code, 0)
  const big = ['x', 'y', 'z'].map((c) => c.repeat(900))
  t.is(walctl(['append', dir, ...big]).code, 0)
  await f.waitFor(7)
  f.child.kill('SIGINT')
  const exit = await f.exit
  t.is(exit.code, 130, exit.stderr)
  t.is(exit.stderr, '')
  const lines = f.lines()
  t.deepEqual(lines.map((l) => text(l.data)), ['one', 'two', 'three', 'four', ...big], 'each record once, in order')
  t.deepEqual(lines.map((l) => l.segment), [1, 1, 1, 2, 2, 3, 4])
  t.true(lines.every((l) => l.kind === undefined), 'no damage reported for records in flight')
})

function writeAt(file: string, offset: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, bytes, 0, bytes.length, offset)
  fs.closeSync(fd)
}

function record(payload: string): Buffer {
  const data = Buffer.from(payload)
  const head = Buffer.alloc(8)
  head.writeUInt32LE(data.length, 0)
  head.writeUInt32LE(crc32(data), 4)
  return Buffer.concat([head, data])
}

test('--follow waits out a record still being written, and shows damage once a valid record follows it', async (t) => {
  const dir = path.join(tempDir(), 'wal')
  t.is(walctl(['init', dir, '--segment-size', '4096']).code, 0)
  t.is(walctl(['append', dir, 'one']).code, 0)
  const file = path.join(dir, 'wal_000001.log')
  const f = follow([dir, '--follow', '--format', 'jsonl', '--interval', '20ms'])
  await f.waitFor(1)
  // Half a record at the tail, as a writer leaves it mid-copy; several polls see it so.
  const rec = record('in flight: 0123456789')
  let at = 89 + 8 + 3
  writeAt(file, at, rec.subarray(0, 15))
  await new Promise((resolve) => setTimeout(resolve, 300))
  writeAt(file, at + 15, rec.subarray(15))
  await f.waitFor(2)
  at += rec.length
  // Now real damage: a bad record, then a valid one after it.
  const bad = record('corrupted!')
  bad[10] ^= 0xff
  writeAt(file, at, bad)
  writeAt(file, at + bad.length, record('after damage'))
  await f.waitFor(4)
  f.child.kill('SIGINT')
  const exit = await f.exit
  t.is(exit.code, 130, exit.stderr)
  const lines = f.lines()
  t.deepEqual(lines.map((l) => (l.kind ? `${l.kind}@${l.offset}` : text(l.data))), ['one', 'in flight: 0123456789', `crc-mismatch@${at}`, 'after damage'])
  t.true((lines[3] as unknown as {resynced: boolean}).resynced)
})

test('--follow shows damage the dump already listed only once, when the writer moves on to a new segment', async (t) => {
  const dir = path.join(tempDir(), 'wal')
  t.is(walctl(['init', dir, '--segment-size', '1024']).code, 0)
  t.is(walctl(['append', dir, 'one']).code, 0)
  writeAt(path.join(dir, 'wal_000001.log'), 600, Buffer.from([0x5a]))
  const f = follow([dir, '--follow', '--format', 'jsonl', '--interval', '20ms'])
  await f.waitFor(2)
  // A new segment, as a writer (Shardex) would create it.
  const next = Buffer.alloc(1024)
  encodeHeader(1_767_225_600_000_000n).copy(next)
  record('two').copy(next, 89)
  fs.writeFileSync(path.join(dir, 'wal_000002.log'), next)
  await f.waitFor(3)
  await new Promise((resolve) => setTimeout(resolve, 200))
  f.child.kill('SIGINT')
  const exit = await f.exit
  t.is(exit.code, 130, exit.stderr)
  t.deepEqual(f.lines().map((l) => (l.kind ? `${l.segment}:${l.kind}@${l.offset}` : `${l.segment}:${text(l.data)}`)), ['1:one', '1:debris@600', '2:two'])
})

test('--follow on a directory with no segment yet waits for the first; --limit ends it', async (t) => {
  const dir = path.join(tempDir(), 'wal')
  const f = follow([path.dirname(dir), '--follow', '--format', 'jsonl', '--interval', '50ms', '--limit', '2'])
  t.is(walctl(['init', dir, '--segment-size', '4096']).code, 0)
  t.is(walctl(['append', dir, 'a', 'b', 'c']).code, 0)
  const exit = await f.exit
  t.is(exit.code, 0, exit.stderr)
  t.deepEqual(f.lines().map((l) => text(l.data)), ['a', 'b'])
})

test('--follow refuses --format json and --stats', (t) => {
  const dir = path.join(tempDir(), 'wal')
  walctl(['init', dir])
  t.is(walctl(['dump', dir, '--follow', '--format', 'json']).code, 64)
  t.is(walctl(['dump', dir, '--follow', '--stats']).code, 64)
})
