// Issue 13's verify figure: a whole `walctl verify` process over a WAL of
// 6.4 M records of 100 B in 64 MiB segments (11 of them), against zlib.crc32
// over the same bytes in one call (Shardex's own open-scan stands at about
// 0.6x of that rate here), both in records per second; with --jobs 1 beside
// it, to show what the second core brings.
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {WalManager} from '../src/core/write/manager.js'
import {Figure, median, MiB, mustSucceed, ROOT, tempDir, walctl} from './lib.js'

const TARGET_RATIO = 0.6
const gc = (globalThis as {gc?: () => void}).gc ?? (() => {})

export function verifyRecordsBench(repeats: number, figures: Figure[], count = 6_400_000): void {
  const wal = path.join(tempDir('verify64'), 'wal')
  const pool = Array.from({length: 64}, () => randomBytes(100))
  const m = WalManager.init(wal, {segmentSize: 64 * MiB})
  for (let i = 0; i < count; i++) m.append(pool[i & 63])
  m.close()
  const files = fs.readdirSync(wal).filter((n) => /^wal_\d+\.log$/.test(n)).sort().map((n) => path.join(wal, n))
  // The writer's mappings go with their Buffers: this process must be small when it starts the others.
  gc()
  const base: number[] = []
  const par: number[] = []
  const one: number[] = []
  for (let i = 0; i < repeats; i++) {
    const b = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'baseline-crc.mjs'), ...files], {encoding: 'utf8', maxBuffer: 1 << 20})
    if (b.status !== 0) throw new Error(`baseline-crc exited ${b.status}: ${b.stderr}`)
    base.push(Number(b.stdout))
    par.push(mustSucceed(walctl(['verify', wal, '--quiet']), 'verify').ms)
    one.push(mustSucceed(walctl(['verify', wal, '--quiet', '--jobs', '1']), 'verify --jobs 1').ms)
  }
  const rate = (ms: number): number => count / (ms / 1000)
  const b = rate(median(base))
  for (const [name, runs] of [[`walctl verify, ${files.length} x 64 MiB of 100 B records (whole process)`, par], ['the same with --jobs 1', one]] as const) {
    const r = rate(median(runs))
    figures.push({group: 'verify', name, value: r, unit: 'rec/s', baselineName: 'zlib.crc32 over the same bytes, one call', baseline: b, ratio: r / b,
      target: `>= ${TARGET_RATIO}x the baseline (Shardex's open-scan)`, met: r / b >= TARGET_RATIO, extra: {wallMs: median(runs), baselineMs: median(base), segments: files.length}})
  }
}
