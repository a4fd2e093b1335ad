// verify on several threads gives the report one thread gives, problem for
// problem, through real processes: a WAL large enough to be split (five
// sparse segments of 64 MiB) with damage, a gap and a stray file in it.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import test from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {mergeScans} from '../src/core/read/parallel-verify.js'
import {scanWal} from '../src/core/read/scan.js'
import {verifyWal} from '../src/core/read/verify.js'
import {walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

function bigWal(): string {
  const dir = path.join(tempDir('walctl-parallel-'), 'wal')
  const m = WalManager.init(dir, {segmentSize: 64 * 1024 * 1024})
  for (let i = 0; i < 300; i++) m.append(Buffer.alloc(3000, i & 0xff))
  m.close()
  // Copies that keep the zero tail a hole: 320 MiB of WAL in a few MiB of disk.
  for (const id of [2, 3, 5, 6]) {
    const r = spawnSync('cp', ['--sparse=always', path.join(dir, 'wal_000001.log'), path.join(dir, `wal_00000${id}.log`)])
    if (r.status !== 0) throw new Error(r.stderr.toString())
  }
  const fd = fs.openSync(path.join(dir, 'wal_000003.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, 89 + 8 + 10)
  fs.closeSync(fd)
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a segment')
  return dir
}

test('verify split over threads reports exactly what one thread reports', (t) => {
  const wal = bigWal()
  const one = walctl(['verify', wal, '--json', '--jobs', '1'])
  const many = walctl(['verify', wal, '--json', '--jobs', '3'])
  t.is(one.code, 2, one.stderr)
  t.is(many.code, one.code, many.stderr)
  t.deepEqual(JSON.parse(many.stdout), JSON.parse(one.stdout))
  const kinds = (JSON.parse(many.stdout) as {problems: Array<{kind: string}>}).problems.map((p) => p.kind)
  t.deepEqual(kinds, ['stray-file', 'missing-segment', 'crc-mismatch'], 'directory problems once, then each segment\'s, in order')
  t.is(walctl(['verify', wal, '--verbose', '--jobs', '2']).stdout, walctl(['verify', wal, '--verbose', '--jobs', '1']).stdout)
})

test('damage in most segments, whichever thread scans each: the same report with 2 and 4 threads as with 1, problems in segment order', (t) => {
  const wal = bigWal()
  // One flipped byte more in segments 1, 5 and 6 (segment 3 has one already), each in a different record.
  for (const [id, record] of [[1, 0], [5, 7], [6, 299]]) {
    const fd = fs.openSync(path.join(wal, `wal_00000${id}.log`), 'r+')
    fs.writeSync(fd, Buffer.from([0x55]), 0, 1, 89 + 8 + record * 3008 + 200)
    fs.closeSync(fd)
  }
  const one = walctl(['verify', wal, '--json', '--jobs', '1'])
  t.is(one.code, 2, one.stderr)
  const report = JSON.parse(one.stdout) as {problems: Array<{kind: string; segment: number | null}>}
  t.deepEqual(report.problems.filter((p) => p.kind === 'crc-mismatch').map((p) => p.segment), [1, 3, 5, 6])
  for (const jobs of ['2', '4']) {
    const many = walctl(['verify', wal, '--json', '--jobs', jobs])
    t.is(many.code, one.code, many.stderr)
    t.deepEqual(JSON.parse(many.stdout), report, `--jobs ${jobs}`)
  }
})

// Which thread takes which segment depends on timing (this thread may take all
// of them before a worker has started): the merge is checked here for shares
// no timing has to produce.
test('the scans of any shares of the segments, merged, are the scan of the whole', (t) => {
  const wal = bigWal()
  const nowUs = 1_900_000_000_000_000n
  const whole = scanWal(wal, {nowUs})
  t.deepEqual(whole.problems.map((p) => p.kind), ['stray-file', 'missing-segment', 'crc-mismatch'])
  for (const shares of [[[1, 2, 3, 5, 6], []], [[1, 5], [2, 3, 6]], [[6], [3], [1, 2, 5]], [[2, 5], [1, 3, 6], [], [4]]]) {
    const parts = shares.map((ids) => scanWal(wal, {nowUs, segments: new Set(ids)}))
    t.deepEqual(mergeScans(parts), whole, JSON.stringify(shares))
  }
})

// The library as built (pretest): from the TypeScript sources there is no worker script, and verify runs on one thread.
async function builtVerifyWalParallel(): Promise<typeof import('../src/core/read/parallel-verify.js').verifyWalParallel> {
  return ((await import(new URL('../dist/index.js', import.meta.url).href)) as typeof import('../src/index.js')).verifyWalParallel
}

test('verifyWalParallel as built: the single-threaded report, every segment counted once for progress', async (t) => {
  const wal = bigWal()
  const verifyWalParallel = await builtVerifyWalParallel()
  const nowUs = 1_900_000_000_000_000n
  const sizes: number[] = []
  const report = await verifyWalParallel(wal, {jobs: 2, nowUs, onSegmentDone: (size) => sizes.push(size)})
  t.deepEqual(report, verifyWal(wal, {nowUs}))
  t.deepEqual(sizes, Array.from({length: 5}, () => 64 * 1024 * 1024))
})

test('a checkpoint that throws ends a parallel verify with its error', async (t) => {
  const wal = bigWal()
  const verifyWalParallel = await builtVerifyWalParallel()
  let calls = 0
  const error = await t.throwsAsync(verifyWalParallel(wal, {jobs: 2, checkpoint: () => {
    if (++calls === 2) throw new Error('interrupted')
  }}))
  t.is(error?.message, 'interrupted')
})

test('cleanOnly shares leave each damaged segment to a last scan, and all of it merged is the scan of the whole', (t) => {
  const wal = bigWal()
  const nowUs = 1_900_000_000_000_000n
  const whole = scanWal(wal, {nowUs})
  for (const shares of [[[1, 2, 3, 5, 6]], [[1, 5], [2, 3, 6]], [[6], [3], [1, 2, 5]]]) {
    const parts = shares.map((ids) => scanWal(wal, {nowUs, segments: new Set(ids), cleanOnly: true}))
    const deferred = parts.flatMap((p) => p.deferred ?? [])
    t.deepEqual(deferred, [3], `only the damaged segment is left: ${JSON.stringify(shares)}`)
    t.false(parts.some((p) => p.problems.some((q) => q.segment === 3)), 'nothing of it is reported by the share that left it')
    t.deepEqual(mergeScans([...parts, scanWal(wal, {nowUs, segments: new Set(deferred)})]), whole, JSON.stringify(shares))
  }
})

/** Peak RSS in MiB of `walctl ...args` (the whole process: every thread), and what it printed. */
function peakRss(args: string[]): {mib: number; stdout: string; code: number} {
  const probe = path.join(tempDir('walctl-rss-'), 'rss.cjs')
  const out = `${probe}.txt`
  fs.writeFileSync(probe, `
    const {isMainThread} = require('node:worker_threads')
    if (isMainThread) process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)))
  `)
  const r = walctl(args, {preload: probe})
  return {mib: Number(fs.readFileSync(out, 'utf8')) / 1024, stdout: r.stdout, code: r.code}
}

// Issue 13: verify's memory is bounded whatever the threads. A segment with damage is scanned through a
// 32 MiB window; were each thread to hold one, eight threads would take some 450 MiB for a damaged 1 GiB
// WAL. Every thread scans through the 1 MiB clean-pass window, and the damaged segments are scanned by the
// main thread alone once the workers have exited.
test('a WAL with damage in every segment takes no more memory to verify on two threads than on one', (t) => {
  t.true(os.availableParallelism() >= 2, 'needs two cores: on one, verify runs one thread and this could not fail')
  const wal = bigWal()
  for (const id of [1, 2, 5, 6]) {
    const fd = fs.openSync(path.join(wal, `wal_00000${id}.log`), 'r+')
    fs.writeSync(fd, Buffer.from([0x55]), 0, 1, 89 + 8 + 4 * 3008 + 100)
    fs.closeSync(fd)
  }
  const one = peakRss(['verify', wal, '--json', '--jobs', '1'])
  const two = peakRss(['verify', wal, '--json', '--jobs', '2'])
  t.is(one.code, 2)
  t.is(two.code, 2)
  t.deepEqual(JSON.parse(two.stdout), JSON.parse(one.stdout))
  t.true(two.mib <= one.mib + 16, `peak RSS: ${two.mib.toFixed(0)} MiB on two threads, ${one.mib.toFixed(0)} MiB on one`)
})
