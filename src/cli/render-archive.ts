import * as path from 'node:path'
import {ArchiveCommandResult} from '../commands/archive.js'
import {RestoreResult} from '../core/archive/restore.js'
import {ArchiveVerifyReport} from '../core/archive/verify-archive.js'
import {formatBytes} from '../core/format/units.js'
import {ChalkInstance} from 'chalk'
import {colorSeverity, colorVerdict, paint} from './color.js'

/** The human report of an archive run: each segment shipped, then the archive's state and lag. */
export function renderArchive(r: ArchiveCommandResult): string {
  const lines = r.shipped.map((s) => `shipped ${s.name}  ${formatBytes(s.size)}  sha256 ${s.sha256.slice(0, 16)}`)
  if (r.current?.shipped) lines.push(`shipped ${r.current.name}'s records so far: ${formatBytes(r.current.bytes)}, up to ${r.current.lastRecord ?? 'its header'}`)
  for (const s of r.pruned) lines.push(`pruned ${s.name} from the archive`)
  const held = r.archived.count === 0 ? 'no segment' : `${r.archived.count} segment(s), wal ids ${r.archived.first}..${r.archived.last}`
  lines.push(`${r.target}: ${r.shipped.length} shipped (${formatBytes(r.bytesShipped)}); the archive holds ${held}; ${r.lag.segments === 0 ? 'up to date with every sealed segment' : `${r.lag.segments} sealed segment(s) not yet archived, the oldest sealed ${r.lag.seconds}s ago`}`)
  return lines.join('\n') + '\n'
}

export function renderRestore(r: RestoreResult): string {
  const lines = [`restored ${r.segments.length} segment(s) (${formatBytes(r.bytes)}) from ${r.target} into ${r.dir}`]
  if (r.cut) lines.push(`cut ${path.basename(r.segments.at(-1)!.name)} after the record at ${r.cut.after} (bytes from ${r.cut.end} on are zeros)`)
  lines.push(`the last record restored is at ${r.lastRecord ?? '(none)'}`)
  return lines.join('\n') + '\n'
}

export function renderArchiveVerify(r: ArchiveVerifyReport, chalk: ChalkInstance = paint('stdout')): string {
  const lines = r.problems.map((p) => `${colorSeverity(chalk, p.severity)}: ${r.target}/${p.object}: ${p.kind}: ${p.message}`)
  const ids = r.segments === 0 ? 'no segment' : `${r.segments} segment(s), wal ids ${r.first}..${r.last}, ${formatBytes(r.bytes)}`
  lines.push(`${colorVerdict(chalk, r.verdict)}: ${r.target}: ${ids}${r.deep ? `, every object read back and ${r.records} record(s) verified` : ', every object present at its size (--deep reads them)'}`)
  return lines.join('\n') + '\n'
}
