// A fuzz worker: a child process of the campaign that runs the cases it is
// sent, one at a time, and answers with each outcome. Before each step it
// writes the step's name to a file, so that a worker killed for a timeout
// still says what it was doing.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {buildCase} from './generate.js'
import {runCase} from './oracle.js'

export interface CaseRequest {
  seed: number
  index: number
  cli: boolean
}

const work = process.env.WALCTL_FUZZ_WORK!
const stepFile = path.join(work, 'step')
fs.mkdirSync(work, {recursive: true})
let done = 0
const MAX_RSS = Number(process.env.WALCTL_FUZZ_MAX_RSS_MB ?? 512) * 2 ** 20

process.on('message', (req: CaseRequest) => {
  const root = path.join(work, `case-${req.index}`)
  const step = (s: string): void => fs.writeFileSync(stepFile, `${req.seed}:${req.index} ${s}`)
  let reply: Record<string, unknown>
  try {
    step('build')
    const c = buildCase(req.seed, req.index)
    const outcome = runCase(c, root, {cli: req.cli, step})
    reply = {outcome, kinds: c.kinds, segmentSize: c.segmentSize}
  } catch (error) {
    const e = error as Error
    reply = {outcome: {id: `${req.seed}:${req.index}`, failures: [{check: 'harness-error', detail: `${e?.name}: ${e?.message} ${(e?.stack ?? '').split('\n').slice(1, 3).join(' ')}`}]}}
  }
  fs.rmSync(root, {recursive: true, force: true})
  // Cases are at most a few MiB: memory far beyond that was taken on the word of a crafted length.
  const rss = process.memoryUsage().rss
  if (rss > MAX_RSS) {
    ;(reply.outcome as {failures: unknown[]}).failures.push({check: 'memory', detail: `the worker's resident memory reached ${Math.round(rss / 2 ** 20)} MiB (limit ${MAX_RSS / 2 ** 20} MiB)`})
    reply.restart = true
  }
  // A segment mapped by append stays mapped (and its tmpfs pages held) until its Buffer is collected.
  if (++done % 100 === 0) (globalThis as {gc?: () => void}).gc?.()
  process.send!(reply)
})
process.send!({ready: true})
