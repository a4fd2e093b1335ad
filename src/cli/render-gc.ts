import {GcResult, segmentRange} from '../core/maintain/gc.js'
import {escapeName} from '../core/fs/quote.js'
import {formatBytes} from '../core/format/units.js'

/** The human report of a gc: one line per segment saying plainly what happens to it and why, the notes, the total last. */
export function renderGc(r: GcResult): string {
  const lines: string[] = []
  const verb = r.dryRun ? (r.archiveDir ? 'would be archived' : 'would be removed') : r.archiveDir ? 'archived' : 'removed'
  for (const s of r.segments) {
    const to = s.archivedTo ? ` to ${escapeName(s.archivedTo)}` : ''
    lines.push(`${s.name}  ${formatBytes(s.size)}  ${verb}${to}: ${s.reason} (last written ${s.lastWrite})`)
  }
  const kept = r.kept.first === null ? 'nothing' : `${r.kept.count} segment(s), ${segmentRange(r.kept.first, r.kept.last!)} (${formatBytes(r.kept.bytes)})`
  for (const note of r.notes) lines.push(`note: ${escapeName(note)}`)
  if (r.segments.length === 0) {
    lines.push(`nothing to remove in ${escapeName(r.dir)}; kept ${kept}`)
  } else {
    const n = r.segments.length
    const what = `${n} segment(s), ${formatBytes(r.bytesFreed)}${r.bytesFreed >= 1024 ? ` (${r.bytesFreed} bytes)` : ''}`
    lines.push(r.dryRun ? `dry run: would ${r.archiveDir ? 'archive' : 'remove'} ${what} and keep ${kept}; nothing changed` : `${r.archiveDir ? 'archived' : 'removed'} ${what} freed; kept ${kept}`)
  }
  return lines.join('\n') + '\n'
}
