// The verdict on a WAL: what is wrong and what repairing it would cost.
import {ExitCode} from '../errors.js'
import {Problem, scanWal, scanWalAsync, SegmentSummary, Verdict, WalScanOptions, WalScanResult, worst} from './scan.js'
import {untoldSizeProblems} from '../write/untold-size.js'

export interface VerifyReport {
  dir: string
  verdict: Verdict
  exitCode: number
  segmentSize: number
  segments: Array<Omit<SegmentSummary, 'header'>>
  problems: Problem[]
  records: number
  payloadBytes: number
  damagedBytes: number
}

export const VERDICT_EXIT: Record<Verdict, number> = {
  clean: ExitCode.OK,
  repairable: ExitCode.REPAIRABLE,
  damaged: ExitCode.DAMAGED,
}

export function verifyWal(input: string, options: WalScanOptions = {}): VerifyReport {
  return verifyReport(scanWal(input, options))
}

/** verifyWal letting signal handlers run between segments and windows (see scanWalAsync). */
export async function verifyWalAsync(input: string, options: WalScanOptions = {}): Promise<VerifyReport> {
  return verifyReport(await scanWalAsync(input, options))
}

/** The report of a finished scan (also of the parts of a parallel verify, put back together). */
export function verifyReport(scan: WalScanResult): VerifyReport {
  for (const p of untoldSizeProblems(scan)) {
    scan.problems.push(p)
    scan.verdict = worst(scan.verdict, p.severity)
    const s = scan.segments.find((x) => x.id === p.segment)
    if (s) s.verdict = worst(s.verdict, p.severity)
  }
  const segments = scan.segments.map(({header: _header, ...rest}) => rest)
  return {
    dir: scan.dir,
    verdict: scan.verdict,
    exitCode: VERDICT_EXIT[scan.verdict],
    segmentSize: scan.segmentSize,
    segments,
    problems: scan.problems,
    records: scan.records,
    payloadBytes: scan.payloadBytes,
    damagedBytes: segments.reduce((n, s) => n + s.damagedBytes, 0),
  }
}
