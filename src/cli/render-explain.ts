import * as path from 'node:path'
import {ChalkInstance} from 'chalk'
import {Explanation} from '../core/explain/explain.js'
import {colorVerdict, paint} from './color.js'
import {escapeName} from '../core/fs/quote.js'

/** The human answer of explain: the message, what it means, where, what walctl sees, what to run. */
export function renderExplanation(e: Explanation, chalk: ChalkInstance = paint('stdout')): string {
  const where = e.file === null ? '' : `${path.basename(e.file)}${e.offset === null ? '' : ` offset ${e.offset}`}`
  const lines = [
    `shardex: ${escapeName(e.message)}`,
    `means:   ${e.meaning}`,
  ]
  if (where) lines.push(`where:   ${escapeName(where)} (segment ${e.segment}, ${escapeName(e.file ?? '')})`)
  lines.push(`walctl:  ${escapeName(e.sees)}`)
  lines.push(`verdict: ${colorVerdict(chalk, e.verdict)} (the whole WAL, as walctl verify gives it)`)
  for (const [i, cmd] of e.repair.entries()) lines.push(`${i === 0 ? 'repair:' : '       '}  ${cmd}`)
  if (e.advice) lines.push(`note:    ${escapeName(e.advice)}`)
  return lines.join('\n') + '\n'
}
