// Issue 13's append figure: WalManager.append of 6.4 M records of 100 B into
// 64 MiB segments (no sync, rotations included), against zlib.crc32 over the
// same payload bytes in one call, run alternately in the same process.
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32 as zlibCrc32} from 'node:zlib'
import {WalManager} from '../src/core/write/manager.js'
import {Figure, median, MiB, now, tempDir} from './lib.js'

const SEGMENT = 64 * MiB
const RECORD = 100
/** Shardex's append stands at about 0.4x of the baseline's records/s on this machine (issue 13). */
const TARGET_RATIO = 0.4
const gc = (globalThis as {gc?: () => void}).gc ?? (() => {})

/** On-CPU time of this process's main thread in ms (/proc schedstat, ns): the append path alone, without the preparing thread. */
function mainThreadCpu(): number {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return Number.NaN
  }
}

function processCpu(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

interface Times {
  wall: number
  cpu: number
  main: number
}

function timed(f: () => void): Times {
  const c0 = processCpu()
  const m0 = mainThreadCpu()
  const t0 = now()
  f()
  return {wall: now() - t0, cpu: processCpu() - c0, main: mainThreadCpu() - m0}
}

export async function appendBench(repeats: number, figures: Figure[], count = 6_400_000): Promise<void> {
  const dir = tempDir('append')
  const pool = Array.from({length: 64}, () => randomBytes(RECORD))
  const same = Buffer.allocUnsafe(count * RECORD)
  for (let i = 0; i < count; i++) pool[i & 63].copy(same, i * RECORD)
  let run = 0
  const subject = (): Times => {
    const wal = path.join(dir, `wal${++run}`)
    let segments = 0
    const t = timed(() => {
      const m = WalManager.init(wal, {segmentSize: SEGMENT})
      for (let i = 0; i < count; i++) m.append(pool[i & 63])
      segments = m.segments.length
      m.close()
    })
    if (segments < 2) throw new Error(`append made ${segments} segment(s)`)
    fs.rmSync(wal, {recursive: true, force: true})
    gc()
    return t
  }
  const baseline = (): Times => timed(() => void zlibCrc32(same))
  const s: Times[] = []
  const b: Times[] = []
  for (let i = 0; i < repeats; i++) {
    b.push(baseline())
    s.push(subject())
    // An event-loop turn between runs, as any program gets between WALs: without one the preparing thread's
    // cost grew run after run in one synchronous process (docs/PERFORMANCE.md).
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const rate = (ms: number): number => count / (ms / 1000)
  const pick = (xs: Times[], k: keyof Times): number => median(xs.map((x) => x[k]))
  const wall = pick(s, 'wall')
  const baseWall = pick(b, 'wall')
  const ratio = baseWall / wall
  figures.push({group: 'append', name: `WalManager.append ${count / 1e6} M x ${RECORD} B, 64 MiB segments, wall`, value: rate(wall), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseWall), ratio,
    target: `>= ${TARGET_RATIO}x zlib.crc32 (1.0x Shardex)`, met: ratio >= TARGET_RATIO,
    extra: {runsWallMs: s.map((x) => x.wall.toFixed(0)).join(' / '), baselineRunsWallMs: b.map((x) => x.wall.toFixed(0)).join(' / ')}})
  const cpu = pick(s, 'cpu')
  const baseCpu = pick(b, 'cpu')
  figures.push({group: 'append', name: 'same, per CPU second (all threads)', value: rate(cpu), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseCpu), ratio: baseCpu / cpu})
  const main = pick(s, 'main')
  figures.push({group: 'append', name: 'same, per CPU second of the main thread', value: rate(main), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseCpu), ratio: baseCpu / main,
    target: `append path >= ${TARGET_RATIO}x`, met: baseCpu / main >= TARGET_RATIO})
}
