// verify on several cores: the segments of a WAL are independent work, so
// they are split into contiguous runs, each scanned by a worker thread with
// scanWal exactly as one thread would, and the results are put back together
// in segment order. The report is the one a single-threaded verify gives,
// problem for problem; memory grows by one scan window per worker.
import * as fs from 'node:fs'
import * as os from 'node:os'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'
import {WalError} from '../errors.js'
import {nowMicros} from '../format/format.js'
import {listWal} from './directory.js'
import {DirectoryProblemKind, Problem, resolveScanTarget, SegmentSummary, WalScanOptions, WalScanResult, worst} from './scan.js'
import {verifyReport, VerifyReport, verifyWalAsync} from './verify.js'

/** Below this much work a worker's start-up costs more than it saves. */
export const PARALLEL_MIN_BYTES = 256 * 1024 * 1024

export interface ParallelVerifyOptions extends Pick<WalScanOptions, 'nowUs' | 'clockSkewUs' | 'settleTries' | 'settleMs' | 'checkpoint'> {
  /** Worker threads at most (default: the cores available, at most 4). 1 scans in this thread. */
  jobs?: number
  /** Called as each segment's scan ends, with its size (a progress bar's hook). */
  onSegmentDone?: (size: number) => void
}

const DIRECTORY_KINDS: ReadonlySet<string> = new Set<DirectoryProblemKind>(['missing-segment', 'stray-file', 'no-segments'])

/** The worker's compiled module beside this one; absent when running from TypeScript sources. */
function workerFile(): string | undefined {
  const file = fileURLToPath(new URL('./verify-worker.js', import.meta.url))
  return fs.existsSync(file) ? file : undefined
}

export async function verifyWalParallel(input: string, options: ParallelVerifyOptions = {}): Promise<VerifyReport> {
  const jobs = Math.max(1, Math.min(options.jobs ?? Math.min(4, os.availableParallelism()), 64))
  const sequential = (): Promise<VerifyReport> => verifyWalAsync(input, {...options, onSegmentEnd: (s: SegmentSummary) => options.onSegmentDone?.(s.size)})
  const target = resolveScanTarget(input)
  const worker = workerFile()
  if (jobs === 1 || target.file || !worker) return sequential()
  const segments = listWal(target.dir).segments
  const total = segments.reduce((n, s) => n + s.size, 0)
  if (segments.length < 2 || total < PARALLEL_MIN_BYTES) return sequential()
  // Contiguous runs of about equal bytes, one per worker.
  const runs: number[][] = []
  const share = total / Math.min(jobs, segments.length)
  let acc = 0
  for (const s of segments) {
    if (runs.length === 0 || (acc >= share * runs.length && runs.length < jobs)) runs.push([])
    runs.at(-1)!.push(s.id)
    acc += s.size
  }
  const nowUs = options.nowUs ?? nowMicros()
  const parts = await Promise.all(runs.map((ids) => scanInWorker(worker, {input, ids, nowUs, clockSkewUs: options.clockSkewUs, settleTries: options.settleTries, settleMs: options.settleMs}, options.onSegmentDone)))
  return verifyReport(merge(parts))
}

function scanInWorker(file: string, job: object, onSegmentDone?: (size: number) => void): Promise<WalScanResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file, {workerData: job})
    w.on('message', (m: {type: string; size?: number; result?: WalScanResult; error?: {message: string; exitCode?: number; reason?: string; file?: string; offset?: number; segment?: number}}) => {
      if (m.type === 'segment') onSegmentDone?.(m.size!)
      else if (m.type === 'done') resolve(m.result!)
      else if (m.type === 'error') {
        const e = m.error!
        // The worker's WalError, rebuilt: the same one line and exit code as a single-threaded verify.
        reject(e.exitCode === undefined || e.reason === undefined ? new Error(e.message) : new WalError(e.exitCode, e.reason, {file: e.file, offset: e.offset, segment: e.segment}))
      }
    })
    w.on('error', reject)
    w.on('exit', (code) => {
      if (code !== 0) reject(new Error(`verify worker exited with code ${code}`))
    })
  })
}

/** The parts' results as one scan would give them: directory problems once (every part reports them), the rest in segment order. */
function merge(parts: WalScanResult[]): WalScanResult {
  const [first, ...rest] = parts
  const out: WalScanResult = {...first, segments: [...first.segments], problems: [...first.problems], unreadable: [...first.unreadable]}
  for (const part of rest) {
    out.segments.push(...part.segments)
    for (const p of part.problems as Problem[]) {
      if (DIRECTORY_KINDS.has(p.kind)) continue
      out.problems.push(p)
      out.verdict = worst(out.verdict, p.severity)
    }
    out.records += part.records
    out.payloadBytes += part.payloadBytes
    out.unreadable.push(...part.unreadable)
  }
  return out
}
