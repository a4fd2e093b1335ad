// npm run bench: every figure of docs/PERFORMANCE.md beside a baseline
// measured in the same run, printed as a table and written to
// bench/results.json. Not part of npm test.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {coreBenches, crcSwitchBench, faultBench, scanBenches} from './core.js'
import {coldStartBench, durableBench, stdinBench, verifyBigBench} from './cli.js'
import {Figure, printTable, removeTemps, ROOT} from './lib.js'
import {archiveBench} from './archive.js'
import {verifyRecordsBench} from './verify.js'
import {appendBench} from './append.js'
import {zerosBench} from './zeros.js'

const only = process.argv.slice(2)
const want = (name: string): boolean => only.length === 0 || only.includes(name)
const figures: Figure[] = []
const started = Date.now()
const load = os.loadavg()

const failures: Array<{section: string; error: string}> = []
async function section(name: string, f: () => void | Promise<void>): Promise<void> {
  if (!want(name)) return
  process.stderr.write(`bench: ${name}...\n`)
  try {
    await f()
    // What a section held (a 640 MB payload, a writer's mappings) goes before the next starts processes:
    // a big parent makes every process it starts slower (docs/PERFORMANCE.md).
    ;(globalThis as {gc?: () => void}).gc?.()
  } catch (error) {
    // One section failing (say, a build in progress under a shared checkout) does not lose the others' figures.
    const message = error instanceof Error ? error.message : String(error)
    failures.push({section: name, error: message})
    process.stderr.write(`bench: ${name} FAILED: ${message}\n`)
  }
}

try {
  await section('crc', () => crcSwitchBench(figures))
  await section('faults', () => faultBench(3, figures))
  await section('zeros', () => zerosBench(5, figures))
  await section('core', () => {
    const ctx = coreBenches([100, 4096, 65_536], 3, figures)
    scanBenches(ctx, 5, figures)
  })
  await section('append', () => appendBench(Number(process.env.WALCTL_BENCH_APPEND_REPEATS ?? 3), figures))
  await section('stdin', () => stdinBench(3, figures))
  await section('verify1g', () => verifyBigBench(3, figures))
  await section('verify64', () => verifyRecordsBench(3, figures))
  await section('cold', () => coldStartBench(11, figures))
  await section('durable', () => durableBench(400, 11, figures))
  await section('archive', () => archiveBench(3, figures))
} finally {
  removeTemps()
}

process.stdout.write(`${printTable(figures)}\n`)
const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  loadAverageAtStart: load,
  loadAverageAtEnd: os.loadavg(),
  seconds: (Date.now() - started) / 1000,
  failures,
  figures,
}
fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
if (failures.length > 0) process.exitCode = 1
process.stderr.write(`bench: ${results.seconds.toFixed(0)} s, load average ${load.map((l) => l.toFixed(1)).join(' ')} at start; bench/results.json written\n`)
