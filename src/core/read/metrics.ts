// Verify results as Prometheus metrics in the text exposition format, for
// node_exporter's textfile collector. The file is replaced atomically (a
// temporary file beside it, fsync, rename) so that the collector never reads
// half a file: it ignores names not ending in .prom, such as the temporary one.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, WalError} from '../errors.js'
import {createFileAtomic} from '../fs/files.js'
import {Severity, Verdict} from './scan.js'
import {VERDICT_EXIT, VerifyReport} from './verify.js'

export const VERDICTS: readonly Verdict[] = ['clean', 'repairable', 'damaged']
const SEVERITIES: readonly Severity[] = ['warning', 'repairable', 'damaged']

export interface VerifyMetrics {
  /** The WAL directory, the `wal` label of every series. */
  wal: string
  /** False when verify could not give a verdict (missing directory, I/O error...). */
  success: boolean
  exitCode: number
  verdict?: Verdict
  segments: number
  records: number
  /** Bytes of segment files read. */
  bytes: number
  payloadBytes: number
  damagedBytes: number
  problems: Record<Severity, number>
  /** When the verify finished, milliseconds since the epoch. */
  finishedAtMs: number
  durationMs: number
}

export interface Timing {
  /** When the verify finished, milliseconds since the epoch. */
  finishedAtMs: number
  durationMs: number
}

/** `wal` labels the series; by default the WAL directory the report names. */
export function verifyMetrics(report: VerifyReport, timing: Timing, wal: string = report.dir): VerifyMetrics {
  const problems: Record<Severity, number> = {warning: 0, repairable: 0, damaged: 0}
  for (const p of report.problems) problems[p.severity]++
  return {
    wal,
    success: true,
    exitCode: VERDICT_EXIT[report.verdict],
    verdict: report.verdict,
    segments: report.segments.length,
    records: report.records,
    bytes: report.segments.reduce((n, s) => n + s.size, 0),
    payloadBytes: report.payloadBytes,
    damagedBytes: report.damagedBytes,
    problems,
    finishedAtMs: timing.finishedAtMs,
    durationMs: Math.max(0, timing.durationMs),
  }
}

/** The metrics of a verify that ended in an error instead of a verdict. */
export function failedVerifyMetrics(wal: string, exitCode: number, timing: Timing): VerifyMetrics {
  return {
    wal: path.resolve(wal),
    success: false,
    exitCode,
    segments: 0,
    records: 0,
    bytes: 0,
    payloadBytes: 0,
    damagedBytes: 0,
    problems: {warning: 0, repairable: 0, damaged: 0},
    finishedAtMs: timing.finishedAtMs,
    durationMs: Math.max(0, timing.durationMs),
  }
}

/** A label value as the exposition format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')
}

export function renderMetrics(m: VerifyMetrics): string {
  const wal = `wal="${escapeLabelValue(m.wal)}"`
  const out: string[] = []
  const gauge = (name: string, help: string, samples: Array<[string, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
    for (const [labels, value] of samples) out.push(`${name}{${wal}${labels}} ${num(value)}`)
  }
  gauge('walctl_verify_success', '1 when the last verify reached a verdict, 0 when it failed (missing directory, I/O error).', [['', m.success ? 1 : 0]])
  gauge('walctl_verify_exit_code', 'Exit code of the last verify: 0 clean, 1 repairable, 2 damaged, 64 and above an error.', [['', m.exitCode]])
  if (m.verdict !== undefined) {
    gauge('walctl_verify_verdict', 'Verdict of the last verify: 0 clean, 1 repairable, 2 damaged.', [['', VERDICT_EXIT[m.verdict]]])
    gauge('walctl_verify_state', 'Verdict of the last verify as one series per state, 1 for the current one.',
      VERDICTS.map((v) => [`,state="${v}"`, v === m.verdict ? 1 : 0]))
  }
  gauge('walctl_verify_segments', 'Segment files read by the last verify.', [['', m.segments]])
  gauge('walctl_verify_records', 'Valid records found by the last verify.', [['', m.records]])
  gauge('walctl_verify_bytes', 'Bytes of segment files read by the last verify.', [['', m.bytes]])
  gauge('walctl_verify_payload_bytes', 'Payload bytes of the valid records found by the last verify.', [['', m.payloadBytes]])
  gauge('walctl_verify_damaged_bytes', 'Bytes inside damaged regions found by the last verify.', [['', m.damagedBytes]])
  gauge('walctl_verify_problems', 'Problems found by the last verify, by severity.', SEVERITIES.map((s) => [`,severity="${s}"`, m.problems[s]]))
  gauge('walctl_verify_last_run_timestamp_seconds', 'When the last verify finished, seconds since the Unix epoch.', [['', m.finishedAtMs / 1000]])
  gauge('walctl_verify_duration_seconds', 'How long the last verify took, in seconds.', [['', m.durationMs / 1000]])
  return out.join('\n') + '\n'
}

/** Replaces `file` with `text` atomically: temporary file in the same directory, fsync, rename, fsync of the directory. */
export function writeMetricsFile(file: string, text: string): void {
  const target = path.resolve(file)
  const dir = path.dirname(target)
  // A missing directory is something walctl cannot create into, not missing input.
  if (!statOrUndefined(dir)?.isDirectory()) throw new WalError(ExitCode.CANT_CREATE, 'cannot write metrics: the directory does not exist', {file: target})
  if (statOrUndefined(target)?.isDirectory()) throw new WalError(ExitCode.CANT_CREATE, 'cannot write metrics: is a directory, expected a file name', {file: target})
  const bytes = Buffer.from(text, 'utf8')
  // A link or FIFO under the name is refused (73), never written through; an existing file keeps its owner and mode.
  createFileAtomic(target, bytes, bytes.length, {replace: true, like: target})
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p)
  } catch {
    return undefined
  }
}
