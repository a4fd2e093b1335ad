// The one place that decides whether walctl writes colour. Colour only when
// the stream is a terminal (and TERM is not dumb); `--no-color` always wins,
// then `--color`, then FORCE_COLOR (0/false off, anything else on), then
// NO_COLOR (set and non-empty: off, as no-color.org asks). Everything that
// colours output takes its Chalk instance from `paint(stream)`.
import {Chalk, ChalkInstance} from 'chalk'
import {Flags} from '@oclif/core'
import {Severity, Verdict} from '../core/read/scan.js'

export const colorFlag = Flags.boolean({
  allowNo: true,
  helpGroup: 'GLOBAL',
  description: 'colour the output even when it is not a terminal (--color) or never (--no-color); by default only at a terminal, and never when NO_COLOR is set',
})

export interface ColorContext {
  env: NodeJS.ProcessEnv
  argv: readonly string[]
  isTTY: boolean
}

/** `--color`/`--no-color` among the options (before a `--`): true, false, or undefined when absent. The last one wins. */
export function colorFlagIn(argv: readonly string[]): boolean | undefined {
  let choice: boolean | undefined
  for (const arg of argv) {
    if (arg === '--') break
    if (arg === '--no-color') choice = false
    else if (arg === '--color') choice = true
  }
  return choice
}

export function shouldColor({env, argv, isTTY}: ColorContext): boolean {
  const flag = colorFlagIn(argv)
  if (flag !== undefined) return flag
  const force = env.FORCE_COLOR
  if (force !== undefined) return !(force === '0' || force.toLowerCase() === 'false')
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return isTTY && env.TERM !== 'dumb'
}

const painters = new Map<'stdout' | 'stderr', ChalkInstance>()

/** The Chalk instance for one of the process's output streams: colourless unless `shouldColor` says so. */
export function paint(stream: 'stdout' | 'stderr'): ChalkInstance {
  let chalk = painters.get(stream)
  if (!chalk) {
    const on = shouldColor({env: process.env, argv: process.argv.slice(2), isTTY: Boolean(process[stream].isTTY)})
    chalk = new Chalk({level: on ? 1 : 0})
    painters.set(stream, chalk)
  }
  return chalk
}

export function colorVerdict(chalk: ChalkInstance, verdict: Verdict, text: string = verdict): string {
  if (verdict === 'clean') return chalk.green(text)
  if (verdict === 'repairable') return chalk.yellow(text)
  return chalk.red.bold(text)
}

export function colorSeverity(chalk: ChalkInstance, severity: Severity, text: string = severity): string {
  if (severity === 'warning') return chalk.cyan(text)
  if (severity === 'repairable') return chalk.yellow(text)
  return chalk.red(text)
}
