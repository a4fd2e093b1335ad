// npm run fuzz [-- --seed S --cases N --minutes M --out DIR --workers W --timeout SECONDS --cli-every K]
// npm run fuzz -- --replay SEED:CASE
// Runs the seeded fuzz campaign of docs/RELIABILITY.md; exits 1 when a case fails.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {parseArgs} from 'node:util'
import {CampaignSummary, replayCommand, runCampaign, writeReproduction} from './campaign.js'
import {buildCase} from './generate.js'

const USAGE = 'usage: npm run fuzz -- [--seed S] [--cases N] [--minutes M] [--out DIR] [--workers W] [--timeout SECONDS] [--cli-every K] [--work DIR] | --replay SEED:CASE'

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n${USAGE}\n`)
  process.exit(64)
}

function int(text: string | undefined, name: string, fallback: number, min = 0): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, not ${text}`)
  return n
}

let values: Record<string, string | undefined>
try {
  values = parseArgs({
    options: {seed: {type: 'string'}, cases: {type: 'string'}, minutes: {type: 'string'}, out: {type: 'string'}, workers: {type: 'string'}, timeout: {type: 'string'}, 'cli-every': {type: 'string'}, work: {type: 'string'}, replay: {type: 'string'}},
    strict: true,
  }).values as Record<string, string | undefined>
} catch (error) {
  fail((error as Error).message)
}

const work = values.work ?? path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `walctl-fuzz-${process.pid}`)
// Ctrl-C reaches the workers too (one process group); the scratch space goes with them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    fs.rmSync(work, {recursive: true, force: true})
    process.exit(128 + os.constants.signals[signal])
  })
}
const cores = os.availableParallelism()
// The dump's settling re-reads sleep: twice as many workers as cores keeps the cores busy.
const workers = int(values.workers, 'workers', Math.max(2, 2 * cores), 1)
const minutes = values.minutes === undefined ? undefined : Number(values.minutes)
if (minutes !== undefined && !(minutes > 0)) fail(`--minutes must be a positive number, not ${values.minutes}`)

/** The scratch space goes whatever the campaign's end. */
async function cleaningUp<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } finally {
    fs.rmSync(work, {recursive: true, force: true})
  }
}

function print(s: CampaignSummary, out: string | undefined): void {
  const lines = [
    `seed ${s.seed}, cases ${s.first}..${s.first + s.cases - 1} (${s.cases}), ${s.workers} workers, ${(s.wallSeconds / 60).toFixed(2)} min, ${s.msPerCase.toFixed(1)} ms per case in a worker`,
    `CPU time of a case in a worker: ${s.cpuMsPerCase.toFixed(1)} ms on average; wall time: median ${s.msMedian} ms, 99th percentile ${s.msP99} ms; slowest ${s.slowest.map((t) => `${t.id} ${t.ms} ms`).join(', ')}`,
    `verdicts before recover: ${Object.entries(s.verdicts).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `cases also run through bin/run.js: ${s.cliCases}`,
    `resynced records never written there (allowed, counted): ${s.inventedResynced}${s.inventedExamples.length > 0 ? ` (e.g. in ${s.inventedExamples.join(', ')})` : ''}`,
    `failed cases: ${s.failedCases}`,
  ]
  if (s.failedCases > 0) {
    lines.push(`failures by check: ${Object.entries(s.byCheck).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`)
    lines.push(`failed cases by mutation kind: ${Object.entries(s.byKind).filter(([, v]) => v.failed > 0).sort((a, b) => b[1].failed - a[1].failed).map(([k, v]) => `${k} ${v.failed}/${v.cases}`).join(', ')}`)
    const seen = new Set<string>()
    for (const f of s.failures) {
      if (seen.has(f.check)) continue
      seen.add(f.check)
      lines.push(`  e.g. ${f.id} ${f.check}: ${f.detail}\n       mutations: ${f.mutations.join('; ') || 'none'}\n       replay: ${replayCommand(f.id)}`)
    }
    if (out) lines.push(`every failure: ${path.join(out, 'failures.txt')}; reproductions (WAL bytes, case.json, replay.txt): ${out}/case-SEED-CASE/`)
  }
  process.stdout.write(lines.join('\n') + '\n')
}

if (values.replay !== undefined) {
  const m = /^(\d+):(\d+)$/.exec(values.replay)
  if (!m || Number(m[1]) > 0xffff_ffff || !Number.isSafeInteger(Number(m[2]))) fail(`--replay takes SEED:CASE (a seed below 2^32), not ${values.replay}`)
  const seed = Number(m[1])
  const index = Number(m[2])
  const c = buildCase(seed, index)
  process.stdout.write(`case ${c.id}: segment size ${c.segmentSize}, ${c.appended} records appended, files ${[...c.files].map(([n, b]) => `${n} (${b.length})`).join(', ')}\nmutations:\n${c.mutations.map((l) => `  ${l}`).join('\n') || '  none'}\n`)
  const out = values.out ?? path.join(os.tmpdir(), 'walctl-fuzz-replay')
  const s = await cleaningUp(runCampaign({seed, first: index, cases: 1, workers: 1, timeoutMs: int(values.timeout, 'timeout', 60, 1) * 1000, cliEvery: 1, work}))
  for (const f of s.failures) process.stdout.write(`FAILED ${f.check}: ${f.detail}\n`)
  const dir = writeReproduction(out, seed, index, s.failures)
  process.stdout.write(`${s.failures.length === 0 ? 'passed' : 'failed'} in ${s.wallSeconds.toFixed(1)} s; the WAL bytes and case.json: ${dir}\n`)
  process.exit(s.failures.length === 0 ? 0 : 1)
}

const seed = int(values.seed, 'seed', 1)
if (seed > 0xffff_ffff) fail(`--seed must be below 2^32, not ${seed}`)
const cases = int(values.cases, 'cases', 1000, 1)
const out = values.out ?? path.join(os.tmpdir(), `walctl-fuzz-${seed}`)
let lastShown = Date.now()
const s = await cleaningUp(runCampaign({
  seed,
  cases,
  minutes,
  workers,
  timeoutMs: int(values.timeout, 'timeout', 10, 1) * 1000,
  cliEvery: int(values['cli-every'], 'cli-every', 100),
  out,
  work,
  onCase: (done, failed) => {
    if (Date.now() - lastShown < 10_000) return
    lastShown = Date.now()
    process.stderr.write(`fuzz: ${done} cases, ${failed} failed\n`)
  },
}))
print(s, out)
process.exit(s.failedCases === 0 ? 0 : 1)
