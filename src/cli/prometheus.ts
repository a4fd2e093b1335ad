// `--prometheus FILE`: a verify's result (or its failure) as node_exporter
// textfile metrics, written whatever the verdict so that an alert can tell
// "damaged" from "verify did not run".
import * as path from 'node:path'
import {performance} from 'node:perf_hooks'
import {Flags} from '@oclif/core'
import {failedVerifyMetrics, renderMetrics, verifyMetrics, writeMetricsFile} from '../core/read/metrics.js'
import {VerifyReport} from '../core/read/verify.js'
import {describeError} from './base.js'

export const prometheusFlag = Flags.string({
  helpValue: 'FILE',
  description: 'also write the result as Prometheus metrics in node_exporter textfile format to FILE (replaced atomically; name it *.prom inside the collector\'s --collector.textfile.directory), even when the verify fails',
})

/**
 * Runs a verify and, when `file` is given, writes its metrics: the verdict's,
 * or on an error `walctl_verify_success 0` with the error's exit code before
 * the error goes on. A failure to write the metrics file is itself an error.
 */
export async function withVerifyMetrics(wal: string, file: string | undefined, run: () => VerifyReport | Promise<VerifyReport>): Promise<VerifyReport> {
  // The label is the path as given, so that a failed run and a good one make the same series.
  const label = path.resolve(wal)
  const started = performance.now()
  const timing = () => ({finishedAtMs: Date.now(), durationMs: performance.now() - started})
  let report: VerifyReport
  try {
    report = await run()
  } catch (error) {
    if (file !== undefined) writeMetricsFile(file, renderMetrics(failedVerifyMetrics(label, describeError(error).exitCode, timing())))
    throw error
  }
  if (file !== undefined) writeMetricsFile(file, renderMetrics(verifyMetrics(report, timing(), label)))
  return report
}
