import * as path from 'node:path'
import {ChalkInstance} from 'chalk'
import {VerifyReport} from '../core/verify.js'
import {colorSeverity, colorVerdict, paint} from './color.js'
import {formatBytes} from '../core/units.js'

/**
 * The human report of a verify: one line per problem and the verdict last; with
 * `verbose`, first a line per segment (with the tail re-reads a concurrent
 * writer caused). A clean WAL is one line.
 */
export function renderVerify(report: VerifyReport, chalk: ChalkInstance = paint('stdout'), verbose = false): string {
  const lines: string[] = []
  if (verbose) for (const s of report.segments) lines.push(segmentLine(s, chalk))
  for (const p of report.problems) {
    const where = p.offset === null ? '' : `: offset ${p.offset}${p.end === undefined ? '' : `..${p.end}`}`
    lines.push(`${colorSeverity(chalk, p.severity)}: ${p.file}${where}: ${p.kind}: ${p.message}`)
  }
  const n = report.segments.length
  lines.push(`${colorVerdict(chalk, report.verdict)}: ${n} segment(s), ${report.records} record(s), ${formatBytes(report.payloadBytes)} of payload${report.problems.length > 0 ? `, ${report.problems.length} problem(s)` : ''}`)
  const dir = JSON.stringify(report.dir)
  if (report.verdict === 'repairable') lines.push(`repair without losing a complete record: walctl recover ${dir} (--dry-run shows the plan)`)
  if (report.verdict === 'damaged') lines.push(`see what each repair keeps and drops: walctl recover ${dir} --dry-run --mode point-in-time (or --mode salvage)`)
  return lines.join('\n') + '\n'
}

function segmentLine(s: VerifyReport['segments'][number], chalk: ChalkInstance): string {
  let extra = s.resyncedRecords > 0 ? `, ${s.resyncedRecords} found past damage` : ''
  if (s.rereads) extra += `, tail re-read ${s.rereads} time(s) in case a writer was mid-record`
  return `${path.basename(s.file)}  ${formatBytes(s.size)}  ${s.records} record(s)${extra}  ${colorVerdict(chalk, s.verdict)}`
}
