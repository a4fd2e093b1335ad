// TEMPORARY: an interruptible scan until scan.ts exports its own
// `scanWalAsync(input, options)` (the scanner's branch). It scans one segment
// at a time with scanWal's own `segments` filter and lets the event loop turn
// between them. Delete this file once scan.ts has scanWalAsync and import that
// instead (recover.ts is the only user).
import {listWal} from './directory.js'
import {Problem, resolveScanTarget, scanWal, WalScanOptions, WalScanResult, worst} from './scan.js'

export interface AsyncScanOptions extends WalScanOptions {
  /** Called after each yield to the event loop; throw from it to stop the scan (an interrupt). */
  checkpoint?: () => void
}

const DIRECTORY_KINDS: ReadonlySet<string> = new Set(['missing-segment', 'stray-file', 'no-segments'])

export async function scanWalAsync(input: string, options: AsyncScanOptions = {}): Promise<WalScanResult> {
  const target = resolveScanTarget(input)
  const ids = target.file ? [] : listWal(target.dir).segments.map((s) => s.id).filter((id) => !options.segments || options.segments.has(id))
  if (ids.length <= 1) return scanWal(input, options)
  let merged: WalScanResult | undefined
  for (const id of ids) {
    const first = merged === undefined
    // Directory problems come with every one-segment scan: report them once.
    const onProblem = options.onProblem && ((p: Problem) => (first || !DIRECTORY_KINDS.has(p.kind)) && options.onProblem!(p))
    const part = scanWal(input, {...options, onProblem, segments: new Set([id])})
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
