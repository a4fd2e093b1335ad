// verify on several threads gives the report one thread gives, problem for
// problem, through real processes: a WAL large enough to be split (five
// sparse segments of 64 MiB) with damage, a gap and a stray file in it.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
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
