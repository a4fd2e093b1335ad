// verify on several cores: the segments of a WAL are independent work. This
// thread and jobs - 1 worker threads each scan with scanWal exactly as one
// thread would, every one taking the next segment nobody has taken yet
// (segment-claims.ts), and the results are put back together in segment
// order. The report is the one a single-threaded verify gives, problem for
// problem. Every thread scans through the clean pass's 1 MiB window only; a
// segment with damage (which needs the full 32 MiB window) is scanned by this
// thread at the end, after the workers have exited. So memory is at most the
// larger of a clean parallel verify's (a small heap per worker) and a
// single-threaded verify's, whatever the damage and the threads.
// This thread scans too rather than waiting: on a machine of two cores two
// workers and an idle main thread bring nothing a worker's start-up does not
// cost, and this thread has its scanner compiled and loaded already.
import * as fs from 'node:fs'
import * as os from 'node:os'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'
import {WalError} from '../errors.js'
import {nowMicros} from '../format/format.js'
import {listWal} from './directory.js'
import {DirectoryProblemKind, Problem, resolveScanTarget, scanWalAsync, SegmentSummary, Verdict, WalScanOptions, WalScanResult, worst} from './scan.js'
import {SegmentClaims} from './segment-claims.js'
import {verifyReport, VerifyReport, verifyWalAsync} from './verify.js'

/** Below this much work a worker's start-up costs more than it saves. */
export const PARALLEL_MIN_BYTES = 256 * 1024 * 1024
/**
 * Threads at most, whatever --jobs asks: each worker costs some 12 MiB (its
 * heap and window), and a verify of 1 GiB stays under 192 MiB with eight.
 * Threads beyond the cores available are not started either: they would only
 * share the cores, each with a heap of its own.
 */
export const MAX_THREADS = 8

export interface ParallelVerifyOptions extends Pick<WalScanOptions, 'nowUs' | 'clockSkewUs' | 'settleTries' | 'settleMs' | 'checkpoint'> {
  /** Threads at most, this one included (default: the cores available, at most 4; never more than the cores, nor MAX_THREADS). 1 scans in this thread alone. */
  jobs?: number
  /** Called as each segment's scan ends, with its size (a progress bar's hook). */
  onSegmentDone?: (size: number) => void
}

/** What a worker is given (verify-worker.ts). */
export interface WorkerJob {
  input: string
  ids: number[]
  claims: SharedArrayBuffer
  thread: number
  nowUs: bigint
  clockSkewUs?: bigint
  settleTries?: number
  settleMs?: number
}

const DIRECTORY_KINDS: ReadonlySet<string> = new Set<DirectoryProblemKind>(['missing-segment', 'stray-file', 'no-segments'])

/**
 * The worker's script: the bundled one (scripts/build.mjs) or else the module
 * compiled beside this one; neither when running from TypeScript sources.
 */
function workerFile(): string | undefined {
  for (const name of ['../../bundle/verify-worker.cjs', './verify-worker.js']) {
    const file = fileURLToPath(new URL(name, import.meta.url))
    if (fs.existsSync(file)) return file
  }
  return undefined
}

export async function verifyWalParallel(input: string, options: ParallelVerifyOptions = {}): Promise<VerifyReport> {
  const jobs = Math.max(1, Math.min(options.jobs ?? Math.min(4, os.availableParallelism()), 64))
  const onSegmentEnd = (s: SegmentSummary): void => options.onSegmentDone?.(s.size)
  const sequential = (): Promise<VerifyReport> => verifyWalAsync(input, {...options, onSegmentEnd})
  const target = resolveScanTarget(input)
  const file = workerFile()
  if (jobs === 1 || target.file || !file) return sequential()
  const segments = listWal(target.dir).segments
  const total = segments.reduce((n, s) => n + s.size, 0)
  const threads = Math.min(jobs, segments.length, os.availableParallelism(), MAX_THREADS)
  if (threads < 2 || total < PARALLEL_MIN_BYTES) return sequential()
  const claims = new SegmentClaims(segments.map((s) => s.id))
  const nowUs = options.nowUs ?? nowMicros()
  const common = {nowUs, clockSkewUs: options.clockSkewUs, settleTries: options.settleTries, settleMs: options.settleMs}
  // This thread is thread 1; the workers 2 and up, started first so that they load while this one scans.
  const workers = Array.from({length: threads - 1}, (_, i) =>
    new VerifyWorker(file, {input, ids: claims.ids as number[], claims: claims.buffer, thread: i + 2, ...common}, options.onSegmentDone))
  try {
    // Every thread, this one too, scans through the clean pass's window only (cleanOnly in scan.ts).
    const mine = await scanWalAsync(input, {...common, cleanOnly: true, segments: claims.filterFor(1), onSegmentEnd, checkpoint: () => {
      options.checkpoint?.()
      for (const w of workers) w.throwIfFailed()
    }})
    // Every segment is claimed once this thread has walked them all: a worker that took none has nothing to add.
    const parts = [mine, ...(await Promise.all(workers.map((w) => (claims.took(w.thread) ? w.result : w.stop())))).filter((p): p is WalScanResult => p !== undefined)]
    // The segments with damage, scanned through the full window here, once every worker has exited: the
    // window never comes on top of their heaps, so a damaged WAL costs what it costs with --jobs 1.
    const deferred = new Set(parts.flatMap((p) => p.deferred ?? []))
    if (deferred.size > 0) {
      await Promise.all(workers.map((w) => w.exited))
      parts.push(await scanWalAsync(input, {...common, segments: deferred, onSegmentEnd, checkpoint: options.checkpoint}))
    }
    return verifyReport(mergeScans(parts))
  } catch (error) {
    // The other workers' scans would be thrown away: not waited for.
    await Promise.all(workers.map((w) => w.stop()))
    throw error
  }
}

class VerifyWorker {
  readonly thread: number
  readonly result: Promise<WalScanResult>
  /** Settles once the thread is gone (its heap with it). */
  readonly exited: Promise<void>
  private readonly worker: Worker
  private failure?: Error
  private stopping = false

  constructor(file: string, job: WorkerJob, onSegmentDone?: (size: number) => void) {
    this.thread = job.thread
    this.worker = new Worker(file, {workerData: job})
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()))
    this.result = new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        this.failure ??= error
        reject(error)
      }
      this.worker.on('message', (m: {type: string; size?: number; result?: WalScanResult; error?: {message: string; exitCode?: number; reason?: string; file?: string; offset?: number; segment?: number}}) => {
        if (m.type === 'segment') onSegmentDone?.(m.size!)
        else if (m.type === 'done') resolve(m.result!)
        else if (m.type === 'error') {
          const e = m.error!
          // The worker's WalError, rebuilt: the same one line and exit code as a single-threaded verify.
          fail(e.exitCode === undefined || e.reason === undefined ? new Error(e.message) : new WalError(e.exitCode, e.reason, {file: e.file, offset: e.offset, segment: e.segment}))
        }
      })
      this.worker.on('error', fail)
      this.worker.on('exit', (code) => {
        if (code !== 0 && !this.stopping) fail(new Error(`verify worker exited with code ${code}`))
      })
    })
    // Awaited only when the worker took a segment; a failure is also seen through throwIfFailed.
    this.result.catch(() => {})
  }

  /** A failed worker ends this thread's scan too (called at its checkpoints). */
  throwIfFailed(): void {
    if (this.failure) throw this.failure
  }

  async stop(): Promise<undefined> {
    this.stopping = true
    await this.worker.terminate()
    return undefined
  }
}

/** The parts' results as one scan would give them: directory problems once (every part reports them), the rest in segment order. */
export function mergeScans(parts: WalScanResult[]): WalScanResult {
  const first = {...parts[0]}
  delete first.deferred
  const segments = parts.flatMap((p) => p.segments).sort((a, b) => a.id - b.id)
  const directory = first.problems.filter((p) => DIRECTORY_KINDS.has(p.kind))
  // Each segment's problems come from the one part that scanned it, in file order: a stable sort by segment keeps that order.
  const perSegment = parts.flatMap((p) => (p.problems as Problem[]).filter((q) => !DIRECTORY_KINDS.has(q.kind))).sort((a, b) => a.segment! - b.segment!)
  const problems = [...directory, ...perSegment]
  return {
    ...first,
    segments,
    problems,
    records: parts.reduce((n, p) => n + p.records, 0),
    payloadBytes: parts.reduce((n, p) => n + p.payloadBytes, 0),
    verdict: problems.reduce<Verdict>((v, p) => worst(v, p.severity), 'clean'),
    unreadable: parts.flatMap((p) => p.unreadable),
  }
}
