// The fuzz campaign: a pool of worker processes runs cases (seed, index) with a
// deadline each; a worker that misses it is killed and replaced, and the case
// counts as a hang. Failing cases are written out as reproductions.
import {ChildProcess, fork} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildCase} from './generate.js'
import type {CaseOutcome, Failure} from './oracle.js'
import {writeWal} from './oracle.js'
import type {CaseRequest} from './worker.js'

/** Extra time for a case that also runs bin/run.js twice (node start-up on a busy machine). */
const CLI_ALLOWANCE_MS = 60_000
const HERE = path.dirname(fileURLToPath(import.meta.url))

export interface CampaignOptions {
  seed: number
  /** Cases to run, from index `first`. */
  cases: number
  first?: number
  /** Stop starting new cases after this long. */
  minutes?: number
  workers: number
  /** A case that takes longer is a hang: its worker is killed. */
  timeoutMs: number
  /** Every Nth case also runs bin/run.js verify and dump (0: never). */
  cliEvery: number
  /** Where reproductions, failures.txt and summary.json go (none when unset). */
  out?: string
  /** Scratch space for the workers (a tmpfs keeps fsyncs cheap). */
  work: string
  onCase?: (done: number, failed: number) => void
}

export interface CaseFailure extends Failure {
  id: string
  mutations: string[]
}

export interface CampaignSummary {
  seed: number
  first: number
  cases: number
  failedCases: number
  failures: CaseFailure[]
  byCheck: Record<string, number>
  /** Cases, and failed cases, per mutation kind. */
  byKind: Record<string, {cases: number; failed: number}>
  verdicts: Record<string, number>
  cliCases: number
  /** Resynced records that were never written where they were found (counted, not failures). */
  inventedResynced: number
  /** Some cases with such records, to look at with --replay. */
  inventedExamples: string[]
  /** Mean, median and 99th percentile time of a case in a worker, timeouts excluded. */
  msPerCase: number
  msMedian: number
  msP99: number
  /** Mean CPU time of a case in its worker (bin/run.js children not included). */
  cpuMsPerCase: number
  /** The slowest cases that finished. */
  slowest: Array<{id: string; ms: number}>
  wallSeconds: number
  workers: number
}

export function replayCommand(id: string): string {
  return `npm run fuzz -- --replay ${id}`
}

interface Slot {
  child: ChildProcess
  dir: string
  busy?: {req: CaseRequest; timer: NodeJS.Timeout; started: number}
  ready: boolean
  stderr: string
}

/** The case's mutations (and kinds), rebuilt in the parent; a generator bug must not end the campaign. */
function describeCase(seed: number, index: number): {mutations: string[]; kinds: string[]} {
  try {
    const c = buildCase(seed, index)
    return {mutations: c.mutations, kinds: c.kinds}
  } catch (error) {
    return {mutations: [`(the generator failed: ${(error as Error).message})`], kinds: ['generator']}
  }
}

function bump(m: Record<string, number>, k: string, n = 1): void {
  m[k] = (m[k] ?? 0) + n
}

export function writeReproduction(out: string, seed: number, index: number, failures: Failure[]): string {
  const c = buildCase(seed, index)
  const dir = path.join(out, `case-${seed}-${index}`)
  fs.rmSync(dir, {recursive: true, force: true})
  writeWal(c, path.join(dir, 'wal'))
  const info = {id: c.id, replay: replayCommand(c.id), segmentSize: c.segmentSize, appended: c.appended, mutations: c.mutations, failures}
  fs.writeFileSync(path.join(dir, 'case.json'), JSON.stringify(info, null, 2) + '\n')
  fs.writeFileSync(path.join(dir, 'replay.txt'), `${replayCommand(c.id)}\n`)
  return dir
}

export function runCampaign(o: CampaignOptions): Promise<CampaignSummary> {
  const first = o.first ?? 0
  const started = Date.now()
  const deadline = o.minutes === undefined ? Infinity : started + o.minutes * 60_000
  const summary: CampaignSummary = {seed: o.seed, first, cases: 0, failedCases: 0, failures: [], byCheck: {}, byKind: {}, verdicts: {}, cliCases: 0, inventedResynced: 0, inventedExamples: [], msPerCase: 0, msMedian: 0, msP99: 0, cpuMsPerCase: 0, slowest: [], wallSeconds: 0, workers: o.workers}
  let next = first
  const times: Array<{id: string; ms: number}> = []
  let cpuMs = 0
  let reproductions = 0
  const failuresFile = o.out ? path.join(o.out, 'failures.txt') : undefined
  if (o.out) {
    fs.mkdirSync(o.out, {recursive: true})
    fs.writeFileSync(failuresFile!, '')
  }
  fs.mkdirSync(o.work, {recursive: true})

  return new Promise((resolve, reject) => {
    const slots: Slot[] = []
    let spawned = 0

    const record = (req: CaseRequest, outcome: Partial<CaseOutcome> & {failures: Failure[]}, kinds: string[]): void => {
      summary.cases++
      if (outcome.ms !== undefined) times.push({id: `${req.seed}:${req.index}`, ms: Math.round(outcome.ms)})
      cpuMs += outcome.cpuMs ?? 0
      if (outcome.verdict) bump(summary.verdicts, outcome.verdict)
      if (req.cli) summary.cliCases++
      summary.inventedResynced += outcome.inventedResynced ?? 0
      if ((outcome.inventedResynced ?? 0) > 0 && summary.inventedExamples.length < 5) summary.inventedExamples.push(`${req.seed}:${req.index}`)
      const failed = outcome.failures.length > 0
      for (const k of new Set(kinds.length > 0 ? kinds : ['none'])) {
        const b = (summary.byKind[k] ??= {cases: 0, failed: 0})
        b.cases++
        if (failed) b.failed++
      }
      if (!failed) return
      summary.failedCases++
      const id = `${req.seed}:${req.index}`
      const {mutations} = describeCase(req.seed, req.index)
      for (const f of outcome.failures) {
        bump(summary.byCheck, f.check)
        summary.failures.push({id, ...f, mutations})
        if (failuresFile) fs.appendFileSync(failuresFile, `${id} ${f.check}: ${f.detail} [${mutations.join('; ') || 'no mutation'}] replay: ${replayCommand(id)}\n`)
      }
      if (o.out && reproductions++ < 200) {
        try {
          writeReproduction(o.out, req.seed, req.index, outcome.failures)
        } catch {}
      }
      o.onCase?.(summary.cases, summary.failedCases)
    }

    let finished = false
    const finish = (): void => {
      if (finished || slots.some((s) => s.busy)) return
      finished = true
      for (const s of slots) {
        s.child.kill('SIGKILL')
        fs.rmSync(s.dir, {recursive: true, force: true})
      }
      const sorted = times.map((t) => t.ms).sort((a, b) => a - b)
      summary.msPerCase = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length
      summary.cpuMsPerCase = sorted.length === 0 ? 0 : cpuMs / sorted.length
      summary.msMedian = sorted[Math.floor(sorted.length / 2)] ?? 0
      summary.msP99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0
      summary.slowest = times.sort((a, b) => b.ms - a.ms).slice(0, 5)
      summary.wallSeconds = (Date.now() - started) / 1000
      if (o.out) fs.writeFileSync(path.join(o.out, 'summary.json'), JSON.stringify({...summary, failures: summary.failures.slice(0, 1000)}, null, 2) + '\n')
      resolve(summary)
    }

    const dispatch = (slot: Slot): void => {
      if (next >= first + o.cases || Date.now() >= deadline) {
        finish()
        return
      }
      const index = next++
      const req: CaseRequest = {seed: o.seed, index, cli: o.cliEvery > 0 && index % o.cliEvery === 0}
      // bin/run.js has its own 30 s deadline per command (a miss is a cli-hang failure).
      const timer = setTimeout(() => hang(slot), o.timeoutMs + (req.cli ? CLI_ALLOWANCE_MS : 0))
      slot.busy = {req, timer, started: Date.now()}
      slot.child.send(req)
    }

    /** The worker missed the deadline (or died): the case fails, and a fresh worker takes its place. */
    const lose = (slot: Slot, check: string, detail: string): void => {
      const busy = slot.busy!
      clearTimeout(busy.timer)
      slot.busy = undefined
      let step = ''
      try {
        step = fs.readFileSync(path.join(slot.dir, 'step'), 'utf8').replace(/^\S+ /, '')
      } catch {}
      slot.child.removeAllListeners('exit')
      slot.child.kill('SIGKILL')
      fs.rmSync(slot.dir, {recursive: true, force: true})
      const {kinds} = describeCase(busy.req.seed, busy.req.index)
      record(busy.req, {failures: [{check, detail: `${detail}${step ? ` (during ${step})` : ''}`}]}, kinds)
      slots[slots.indexOf(slot)] = spawn()
    }

    const hang = (slot: Slot): void => lose(slot, 'timeout', `no answer within ${o.timeoutMs / 1000} s`)

    const spawn = (): Slot => {
      const dir = path.join(o.work, `worker-${process.pid}-${spawned++}`)
      const child = fork(path.join(HERE, 'worker.ts'), [], {
        execArgv: ['--import=tsx', '--expose-gc'],
        env: {...process.env, WALCTL_FUZZ_WORK: dir, NO_COLOR: '1'},
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      })
      const slot: Slot = {child, dir, ready: false, stderr: ''}
      child.stderr!.on('data', (d: Buffer) => {
        slot.stderr = (slot.stderr + d.toString()).slice(-2000)
      })
      child.on('message', (m: {ready?: boolean; outcome?: CaseOutcome; kinds?: string[]; restart?: boolean}) => {
        if (m.ready) {
          slot.ready = true
          dispatch(slot)
          return
        }
        const busy = slot.busy
        if (!busy) return
        clearTimeout(busy.timer)
        slot.busy = undefined
        record(busy.req, m.outcome!, m.kinds ?? [])
        if (!m.restart) {
          dispatch(slot)
          return
        }
        // A worker that grew too large starts afresh, so that one case's memory does not fail the next.
        slot.child.removeAllListeners('exit')
        slot.child.kill('SIGKILL')
        fs.rmSync(slot.dir, {recursive: true, force: true})
        slots[slots.indexOf(slot)] = spawn()
      })
      child.on('exit', (code, signal) => {
        const lines = slot.stderr.trim().split('\n')
        const why = `${signal ?? `exit ${code}`}: ${lines.find((l) => /Error|error:/.test(l)) ?? lines.slice(-3).join(' | ')}`
        if (slot.busy) lose(slot, 'crash', `the worker died (${why})`)
        else if (!slot.ready && !finished) {
          // A worker that cannot even start would leave the campaign waiting for ever.
          finished = true
          for (const s of slots) s.child.kill('SIGKILL')
          reject(new Error(`a fuzz worker failed to start (${why})`))
        }
      })
      return slot
    }

    for (let i = 0; i < Math.max(1, o.workers); i++) slots.push(spawn())
  })
}
