// Shared pieces of the benchmark: timing, repetition, temp dirs, child
// processes with their peak RSS, and the results table.
import {spawnSync, SpawnSyncOptions} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = path.join(ROOT, 'bin', 'run.js')
export const MiB = 1024 * 1024

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/**
 * CPU time (user + system) of this process in ms. In-process figures use it
 * rather than the wall clock: on a shared machine a process waits for a core
 * for much of its wall time, and that wait is not the code's cost.
 */
export function cpu(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/**
 * Runs `subject` and `baseline` alternately `repeats` times (so both see the
 * same load on a shared machine) and returns each one's median in ms.
 */
export function paired(repeats: number, subject: () => number, baseline: () => number): {subject: number; baseline: number; subjectRuns: number[]; baselineRuns: number[]} {
  const s: number[] = []
  const b: number[] = []
  for (let i = 0; i < repeats; i++) {
    b.push(baseline())
    s.push(subject())
  }
  return {subject: median(s), baseline: median(b), subjectRuns: s, baselineRuns: b}
}

const temps: string[] = []
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `walctl-bench-${tag}-`))
  temps.push(dir)
  return dir
}

export function removeTemps(): void {
  for (const dir of temps.splice(0)) fs.rmSync(dir, {recursive: true, force: true})
}

export interface RunResult {
  ms: number
  /** User + system CPU time of the child in ms (from /usr/bin/time), when measured. */
  cpuMs?: number
  code: number
  /** Peak resident set size in bytes (from /usr/bin/time), when measured. */
  peakRss?: number
  stderr: string
}

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

/** Runs a command to completion and times it (wall clock, including process start). */
export function run(cmd: string, args: string[], options: SpawnSyncOptions & {rss?: boolean} = {}): RunResult {
  const env = {...process.env, NO_COLOR: '1'}
  const wrap = options.rss && TIME
  const file = wrap ? TIME : cmd
  const argv = wrap ? ['-f', 'walctl-bench-rss %M %U %S', cmd, ...args] : args
  const t0 = now()
  const r = spawnSync(file, argv, {env, maxBuffer: 1 << 30, stdio: ['ignore', 'ignore', 'pipe'], ...options})
  const ms = now() - t0
  if (r.error) throw r.error
  const stderr = r.stderr ? r.stderr.toString() : ''
  const m = /walctl-bench-rss (\d+) ([\d.]+) ([\d.]+)/.exec(stderr)
  return {ms, code: r.status ?? -1, stderr, peakRss: m ? Number(m[1]) * 1024 : undefined, cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : undefined}
}

export function walctl(args: string[], options: SpawnSyncOptions & {rss?: boolean} = {}): RunResult {
  const r = run(process.execPath, [BIN, ...args], options)
  return r
}

export function mustSucceed(r: RunResult, what: string, codes = [0]): RunResult {
  if (!codes.includes(r.code)) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`)
  return r
}

export interface Figure {
  group: string
  name: string
  value: number
  unit: string
  baselineName: string
  baseline: number
  /** value / baseline, or baseline / value for times, so that > 1 is better unless `lowerIsBetter`. */
  ratio: number
  target?: string
  met?: boolean
  extra?: Record<string, number | string>
}

export function fmt(n: number, unit: string): string {
  if (!Number.isFinite(n)) return String(n)
  if (unit === 'rec/s' || unit === '') {
    if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M ${unit}`.trim()
    if (n >= 1e4) return `${(n / 1e3).toFixed(0)} k ${unit}`.trim()
  }
  const abs = Math.abs(n)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2
  return `${n.toFixed(digits)} ${unit}`.trim()
}

export function printTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.group, f.name, fmt(f.value, f.unit), `${f.baselineName}: ${fmt(f.baseline, f.unit)}`, f.ratio.toFixed(2), f.target ? `${f.met ? 'met' : 'NOT met'} (${f.target})` : ''])
  const head = ['group', 'figure', 'value', 'baseline (same run)', 'ratio', 'target']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
