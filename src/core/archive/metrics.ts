// An archive run as Prometheus textfile metrics (node_exporter's textfile
// collector), so that an alert can fire on archive lag or on failures.
import * as fs from 'node:fs'
import {escapeLabelValue} from '../read/metrics.js'

export interface ArchiveMetrics {
  wal: string
  target: string
  success: boolean
  exitCode: number
  shippedSegments: number
  shippedBytes: number
  archivedSegments: number
  lagSegments: number
  lagSeconds: number
  /** Failed runs (or watch passes) since this process started. */
  failures: number
  finishedAtMs: number
}

/** The previous textfile's last success time, so that a failed run keeps it. */
export function previousSuccessSeconds(file: string): number | undefined {
  try {
    const m = /^walctl_archive_last_success_timestamp_seconds\{[^}]*\} (\d+(?:\.\d+)?)$/m.exec(fs.readFileSync(file, 'utf8').slice(0, 65536))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

export function renderArchiveMetrics(m: ArchiveMetrics, lastSuccessSeconds: number | undefined): string {
  const labels = `wal="${escapeLabelValue(m.wal)}",target="${escapeLabelValue(m.target)}"`
  const lines: string[] = []
  const gauge = (name: string, help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${labels}} ${value}`)
  }
  gauge('walctl_archive_success', '1 when the last archive run completed, 0 when it failed', m.success ? 1 : 0)
  gauge('walctl_archive_exit_code', 'exit code of the last archive run', m.exitCode)
  gauge('walctl_archive_last_run_segments', 'segments shipped by the last run', m.shippedSegments)
  gauge('walctl_archive_last_run_bytes', 'bytes shipped by the last run', m.shippedBytes)
  gauge('walctl_archive_archived_segments', 'segments the archive lists', m.archivedSegments)
  gauge('walctl_archive_lag_segments', 'sealed segments of the WAL not yet archived', m.lagSegments)
  gauge('walctl_archive_lag_seconds', 'how long ago the oldest segment not yet archived was sealed (0 when none waits)', m.lagSeconds)
  gauge('walctl_archive_failures', 'failed runs or watch passes since the archiver started', m.failures)
  gauge('walctl_archive_last_run_timestamp_seconds', 'when the last run finished', m.finishedAtMs / 1000)
  if (lastSuccessSeconds !== undefined) gauge('walctl_archive_last_success_timestamp_seconds', 'when a run last completed', lastSuccessSeconds)
  return lines.join('\n') + '\n'
}
