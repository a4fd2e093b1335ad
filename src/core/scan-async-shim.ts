// TEMPORARY: an interruptible scan until scan.ts exports its own
// `scanWalAsync(input, options)` (the scanner's branch). It scans a batch of
// segments at a time (up to 64 of them or 32 MiB) with scanWal's own
// `segments` filter and lets the event loop turn between batches. Delete this file once scan.ts has scanWalAsync and import that
// instead (recover.ts is the only user).
import {listWal} from './directory.js'
import {Problem, resolveScanTarget, scanWal, WalScanOptions, WalScanResult, worst} from './scan.js'

export interface AsyncScanOptions extends WalScanOptions {
  /** Called after each yield to the event loop; throw from it to stop the scan (an interrupt). */
  checkpoint?: () => void
}

const BATCH_SEGMENTS = 64
const BATCH_BYTES = 32 * 1024 * 1024
const DIRECTORY_KINDS: ReadonlySet<string> = new Set(['missing-segment', 'stray-file', 'no-segments'])

export async function scanWalAsync(input: string, options: AsyncScanOptions = {}): Promise<WalScanResult> {
  const target = resolveScanTarget(input)
  const files = target.file ? [] : listWal(target.dir).segments.filter((s) => !options.segments || options.segments.has(s.id))
  const batches: Array<Set<number>> = []
  let bytes = Infinity
  for (const f of files) {
    if (bytes >= BATCH_BYTES || batches.at(-1)!.size >= BATCH_SEGMENTS) {
      batches.push(new Set())
      bytes = 0
    }
    batches.at(-1)!.add(f.id)
    bytes += f.size
  }
  if (batches.length <= 1) return scanWal(input, options)
  let merged: WalScanResult | undefined
  for (const batch of batches) {
    const first = merged === undefined
    // Directory problems come with every partial scan: report them once.
    const onProblem = options.onProblem && ((p: Problem) => (first || !DIRECTORY_KINDS.has(p.kind)) && options.onProblem!(p))
    const part = scanWal(input, {...options, onProblem, segments: batch})
    if (!merged) merged = part
    else {
      merged.segments.push(...part.segments)
      for (const p of part.problems) {
        if (DIRECTORY_KINDS.has(p.kind)) continue
        merged.problems.push(p)
        merged.verdict = worst(merged.verdict, p.severity)
      }
      merged.records += part.records
      merged.payloadBytes += part.payloadBytes
      merged.stopped = part.stopped
    }
    if (part.stopped) break
    await new Promise<void>((resolve) => setImmediate(resolve))
    options.checkpoint?.()
  }
  return merged!
}
