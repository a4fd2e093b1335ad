import * as path from 'node:path'
import {ChalkInstance} from 'chalk'
import {VerifyReport} from '../core/read/verify.js'
import {colorSeverity, colorVerdict, paint} from './color.js'
import {formatBytes} from '../core/format/units.js'
import {escapeName, shellPath} from '../core/fs/quote.js'

export interface RenderVerifyOptions {
  /** Suggest a `walctl recover` of the report's directory (false for a lone file outside a WAL directory). */
  suggestRecover?: boolean
  /** A line per segment before the problems. */
  verbose?: boolean
}

/**
 * The human report of a verify: one line per problem and the verdict last; with
 * `verbose`, first a line per segment (with the tail re-reads a concurrent
 * writer caused). A clean WAL is one line.
 */
export function renderVerify(report: VerifyReport, chalk: ChalkInstance = paint('stdout'), options: RenderVerifyOptions = {}): string {
  const lines: string[] = []
  if (options.verbose) for (const s of report.segments) lines.push(segmentLine(s, chalk))
  for (const p of report.problems) {
    const where = p.offset === null ? '' : `: offset ${p.offset}${p.end === undefined ? '' : `..${p.end}`}`
    lines.push(`${colorSeverity(chalk, p.severity)}: ${escapeName(p.file)}${where}: ${p.kind}: ${escapeName(p.message)}`)
  }
  const n = report.segments.length
  lines.push(`${colorVerdict(chalk, report.verdict)}: ${n} segment(s), ${report.records} record(s), ${formatBytes(report.payloadBytes)} of payload${report.problems.length > 0 ? `, ${report.problems.length} problem(s)` : ''}`)
  // Single quotes: pasting the suggestion runs walctl and nothing a directory's name could hold.
  const dir = shellPath(report.dir)
  if (options.suggestRecover === false) return lines.join('\n') + '\n'
  if (report.verdict === 'repairable') lines.push(`repair without losing a complete record: walctl recover ${dir} (--dry-run shows the plan)`)
  if (report.verdict === 'damaged') lines.push(`see what each repair keeps and drops: walctl recover ${dir} --dry-run --mode point-in-time (or --mode salvage)`)
  return lines.join('\n') + '\n'
}

function segmentLine(s: VerifyReport['segments'][number], chalk: ChalkInstance): string {
  let extra = s.resyncedRecords > 0 ? `, ${s.resyncedRecords} found past damage` : ''
  if (s.rereads) extra += `, tail re-read ${s.rereads} time(s) in case a writer was mid-record`
  return `${escapeName(path.basename(s.file))}  ${formatBytes(s.size)}  ${s.records} record(s)${extra}  ${colorVerdict(chalk, s.verdict)}`
}
