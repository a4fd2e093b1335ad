import * as path from 'node:path'
import {ChalkInstance} from 'chalk'
import {Loss, RecoverResult} from '../core/repair/recover.js'
import {UndoResult} from '../core/repair/undo.js'
import {colorSeverity, colorVerdict, paint} from './color.js'
import {formatBytes} from '../core/format/units.js'
import {escapeName, shellPath} from '../core/fs/quote.js'

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/** `drop 9 (0 valid, 9 found past damage), remove 1 damaged region (25 B)`: the losses apart, never folded into one number. */
function describeLoss(dropped: number, l: Loss): string {
  const split = dropped > 0 ? ` (${l.validDropped} valid, ${l.resyncedDropped} found only past damage)` : ''
  return `drop ${dropped}${split}, remove ${plural(l.damagedRegions, 'damaged region')} (${formatBytes(l.damagedBytesRemoved)})`
}

function resyncedNote(l: Loss): string {
  return l.resyncedKept > 0 ? `; ${l.resyncedKept} kept record(s) were found only past damage (they may be a damaged record's data)` : ''
}

const VERB = {rewrite: 'rewrite', move: 'move to quarantine', create: 'create empty'} as const

/** The human report of a recover: the plan (or what was done), what each mode costs, the outcome. */
export function renderRecover(r: RecoverResult, chalk: ChalkInstance = paint('stdout')): string {
  const lines: string[] = [`${escapeName(r.dir)}: ${colorVerdict(chalk, r.verdictBefore)}, ${r.records.before} valid record(s), ${r.problems.filter((p) => p.severity !== 'warning').length} problem(s) to repair`]
  if (r.verdictBefore === 'clean' && r.actions.length === 0) {
    lines.push('nothing to recover')
    return lines.join('\n') + '\n'
  }
  if (r.refused) {
    // Refused: no actions to explain the problems, so list them.
    const problems = r.problems.filter((p) => p.severity !== 'warning')
    for (const p of problems.slice(0, 20)) {
      const where = p.offset === null ? '' : `: offset ${p.offset}${p.end === undefined ? '' : `..${p.end}`}`
      lines.push(`  ${colorSeverity(chalk, p.severity)}: ${escapeName(path.basename(p.file))}${where}: ${p.kind}: ${escapeName(p.message)}`)
    }
    if (problems.length > 20) lines.push(`  ... and ${problems.length - 20} more (walctl verify lists them all)`)
  } else {
    const tense = r.dryRun ? 'would' : 'did'
    lines.push(`${r.mode}${r.dryRun ? ' (dry run, nothing changed)' : ''}: ${tense} keep ${r.records.kept} record(s), ${describeLoss(r.records.dropped, r.loss)}${resyncedNote(r.loss)}`)
    for (const a of r.actions) {
      const what = a.action === 'rewrite' ? `${VERB.rewrite} keeping ${a.keptRecords} record(s) (${formatBytes(a.keptBytes)})` : VERB[a.action]
      const dropped = (a.droppedRecords > 0 ? `, dropping ${a.droppedRecords}` : '') + (a.loss.damagedRegions > 0 ? `, removing ${plural(a.loss.damagedRegions, 'damaged region')} (${formatBytes(a.loss.damagedBytesRemoved)})` : '')
      lines.push(`  ${escapeName(path.basename(a.file))}: ${what}${dropped}${a.quarantined ? ` [${escapeName(a.quarantined)}]` : ''}`)
      for (const why of a.why) lines.push(`      ${escapeName(why)}`)
    }
  }
  lines.push('modes:')
  for (const m of r.modes) {
    const l = m.loss
    const split = m.droppedRecords > 0 ? `; dropped: ${l.validDropped} valid, ${l.resyncedDropped} found only past damage` : ''
    const kept = l.resyncedKept > 0 ? `, ${l.resyncedKept} kept found only past damage` : ''
    const damage = `${split}; removes ${plural(l.damagedRegions, 'damaged region')} (${formatBytes(l.damagedBytesRemoved)})${kept}`
    const cost = m.possible ? `keeps ${m.keptRecords}, drops ${m.droppedRecords}, changes ${m.changes} segment(s)${damage}` : `cannot: ${escapeName(m.reason ?? '')}`
    lines.push(`  ${m.mode.padEnd(13)} ${cost}${m.mode === r.mode ? '  (chosen)' : ''}`)
  }
  if (r.quarantine) lines.push(`quarantine: ${escapeName(r.quarantine)}`, `undo: walctl recover ${shellPath(r.dir)} --undo ${shellPath(path.basename(r.quarantine))}`)
  if (r.changed) lines.push(`after: ${colorVerdict(chalk, r.verdictAfter)}${r.remaining.length > 0 ? ` (${r.remaining.length} warning(s) left)` : ''}`)
  return lines.join('\n') + '\n'
}

const UNDO_VERB = {rewrite: 'put the original back', restore: 'move back into the WAL', move: 'move into the quarantine (the change created it)'} as const

/** The human report of an undo: each step, and where the state it replaced went. */
export function renderUndo(r: UndoResult): string {
  const todo = r.steps.filter((s) => !s.done).length
  const lines = [`${escapeName(r.dir)}: undo of ${escapeName(r.undo)}${r.dryRun ? ' (dry run, nothing changed)' : ''}: ${todo === 0 ? 'nothing to undo, every segment is already as before' : `${r.dryRun ? 'would make' : 'made'} ${todo} change(s)`}`]
  for (const s of r.steps.filter((x) => !x.done)) {
    const from = s.from && s.action === 'rewrite' ? ` from ${escapeName(s.from)}` : ''
    lines.push(`  ${escapeName(s.file)}: ${UNDO_VERB[s.action]}${from}${s.quarantined ? ` [${escapeName(s.quarantined)}]` : ''}`)
  }
  const done = r.steps.length - todo
  if (done > 0 && todo > 0) lines.push(`  ${done} segment(s) already as before (an earlier, interrupted undo put them back)`)
  if (r.quarantine) lines.push(`quarantine: ${escapeName(r.quarantine)}`, `undo this undo: walctl recover ${shellPath(r.dir)} --undo ${shellPath(path.basename(r.quarantine))}`)
  return lines.join('\n') + '\n'
}
