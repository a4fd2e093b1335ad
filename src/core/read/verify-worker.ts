// One worker of a parallel verify (parallel-verify.ts): scans with scanWal,
// exactly as a single-threaded verify would, the segments it claims first
// (segment-claims.ts), and posts each finished segment (for progress) and
// then the whole result, with the segments it left to the main thread
// (damaged ones: see cleanOnly in scan.ts).
import {parentPort, workerData} from 'node:worker_threads'
import type {WorkerJob} from './parallel-verify.js'
import {scanWal} from './scan.js'
import {SegmentClaims} from './segment-claims.js'

const job = workerData as WorkerJob
try {
  const result = scanWal(job.input, {
    segments: new SegmentClaims(job.ids, job.claims).filterFor(job.thread),
    nowUs: job.nowUs,
    clockSkewUs: job.clockSkewUs,
    settleTries: job.settleTries,
    settleMs: job.settleMs,
    // A segment needing the full window goes back to the main thread: one window of that size per verify.
    cleanOnly: true,
    onSegmentEnd: (s) => parentPort!.postMessage({type: 'segment', size: s.size}),
  })
  // Errors do not survive the structured clone as WalErrors; verify reports them as problems anyway.
  parentPort!.postMessage({type: 'done', result: {...result, unreadable: result.unreadable.map((e) => ({message: e.message, exitCode: e.exitCode}))}})
} catch (error) {
  const e = error as Error & {exitCode?: number; reason?: string; file?: string; offset?: number; segment?: number}
  parentPort!.postMessage({type: 'error', error: {message: e.message, exitCode: e.exitCode, reason: e.reason, file: e.file, offset: e.offset, segment: e.segment}})
}
