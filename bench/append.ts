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
  /** One WAL written: the appends (init included), then the close that makes it all durable, timed apart. */
  const subject = (sealOnRotation: boolean): {appends: Times; close: Times} => {
    const wal = path.join(dir, `wal${++run}`)
    let segments = 0
    let m: WalManager | undefined
    const appends = timed(() => {
      m = WalManager.init(wal, {segmentSize: SEGMENT, sealOnRotation})
      for (let i = 0; i < count; i++) m.append(pool[i & 63])
      segments = m.segments.length
    })
    const close = timed(() => m!.close())
    if (segments < 2) throw new Error(`append made ${segments} segment(s)`)
    fs.rmSync(wal, {recursive: true, force: true})
    gc()
    return {appends, close}
  }
  const baseline = (): Times => timed(() => void zlibCrc32(same))
  const sealed: Array<{appends: Times; close: Times}> = []
  const lazy: Array<{appends: Times; close: Times}> = []
  const b: Times[] = []
  for (let i = 0; i < repeats; i++) {
    b.push(baseline())
    sealed.push(subject(true))
    // An event-loop turn between runs, as any program gets between WALs: without one the preparing thread's
    // cost grew run after run in one synchronous process (docs/PERFORMANCE.md).
    await new Promise((resolve) => setTimeout(resolve, 100))
    lazy.push(subject(false))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const rate = (ms: number): number => count / (ms / 1000)
  const pick = (xs: Times[], k: keyof Times): number => median(xs.map((x) => x[k]))
  const baseWall = pick(b, 'wall')
  const baseCpu = pick(b, 'cpu')
  const whole = sealed.map((r) => ({wall: r.appends.wall + r.close.wall, cpu: r.appends.cpu + r.close.cpu, main: r.appends.main + r.close.main}))
  const wall = pick(whole, 'wall')
  figures.push({group: 'append', name: `WalManager.append ${count / 1e6} M x ${RECORD} B, 64 MiB segments, wall, close included (each filled segment synced in the background)`, value: rate(wall), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseWall), ratio: baseWall / wall,
    target: `>= ${TARGET_RATIO}x zlib.crc32 (issue 13's estimate of 1.0x Shardex)`, met: baseWall / wall >= TARGET_RATIO,
    extra: {runsWallMs: whole.map((x) => x.wall.toFixed(0)).join(' / '), baselineRunsWallMs: b.map((x) => x.wall.toFixed(0)).join(' / ')}})
  figures.push({group: 'append', name: 'same, per CPU second (all threads)', value: rate(pick(whole, 'cpu')), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseCpu), ratio: baseCpu / pick(whole, 'cpu')})
  figures.push({group: 'append', name: 'same, per CPU second of the main thread', value: rate(pick(whole, 'main')), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseCpu), ratio: baseCpu / pick(whole, 'main')})
  // As Shardex's own append: no sync at all while appending (sealOnRotation false), the close timed apart.
  const lazyWall = pick(lazy.map((r) => r.appends), 'wall')
  figures.push({group: 'append', name: 'sealOnRotation false, the appends alone (no sync, as Shardex), wall', value: rate(lazyWall), unit: 'rec/s', baselineName: 'zlib.crc32 one call', baseline: rate(baseWall), ratio: baseWall / lazyWall,
    extra: {runsWallMs: lazy.map((r) => r.appends.wall.toFixed(0)).join(' / ')}})
  const closeWall = pick(lazy.map((r) => r.close), 'wall')
  figures.push({group: 'append', name: 'its close (every segment made durable), ms', value: closeWall, unit: 'ms', baselineName: 'zlib.crc32 one call, ms', baseline: baseWall, ratio: baseWall / closeWall})
}
