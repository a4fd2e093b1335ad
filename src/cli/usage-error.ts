// oclif's parse errors are written for a screen (several lines, notes about
// variadic flags, each conflict reported from both sides); walctl prints every
// error as one line in its own words, naming the closest flag or value when
// something is mistyped.
import {didYouMean, withHelp} from './closest.js'

/** What a usage error is about: the command as the user typed it and what it accepts. */
export interface UsageContext {
  /** `walctl verify` */
  command: string
  /** Flag names without dashes, `json` and `help` included where they apply. */
  flags: string[]
  /** Argument names as usage shows them (DIR, DATA). */
  args: string[]
  /** Whether the command offers --json. */
  json: boolean
}

interface OclifParseError {
  message: string
  flags?: string[]
  args?: Array<string | {name: string; description?: string}>
}

/** One line for an oclif parse error (or oclif's "expects a value"), in walctl's words. */
export function usageMessage(err: OclifParseError, context?: UsageContext): string {
  const help = context ? `see '${context.command} --help'` : 'see --help'
  // eslint-disable-next-line no-control-regex
  const text = err.message.replace(/\x1b\[[0-9;]*m/g, '').replace(/\nSee more help with --help\s*$/, '')
  const name = (err as {constructor?: {name?: string}}).constructor?.name

  if (name === 'NonExistentFlagsError' && err.flags) {
    return withHelp(`${err.flags.map((f) => unknownFlag(f, context)).join('; ')}`, help)
  }
  if (name === 'UnexpectedArgsError' && err.args) {
    const valued = switchWithValue(err, context)
    if (valued) return withHelp(`${valued} takes no value: write ${valued.split('=')[0]} alone`, help)
    const extra = (err.args as string[]).map((a) => `'${a}'`).join(', ')
    const takes = context ? `: ${context.command} takes ${context.args.length === 0 ? 'no arguments' : `${context.args.join(' ')} only`}` : ''
    return withHelp(`unexpected argument${err.args.length === 1 ? '' : 's'} ${extra}${takes}`, help)
  }
  if (name === 'RequiredArgsError' && err.args) {
    const args = (err.args as Array<{name: string; description?: string}>).map((a) => `${a.name.toUpperCase()}${a.description ? ` (${a.description})` : ''}`)
    return withHelp(`missing required argument${args.length === 1 ? '' : 's'} ${args.join(', ')}`, help)
  }
  const option = /^Expected --([\w-]+)=(.*) to be one of: (.*)$/s.exec(text)
  if (option) {
    const [, flag, value, list] = option
    const options = list.split(', ')
    return withHelp(`invalid value '${value}' for --${flag}: expected one of ${options.join(', ')}${didYouMean(value, options)}`, help)
  }
  const argOption = /^Expected (.*) to be one of: (.*)$/s.exec(text)
  if (argOption) {
    const [, value, list] = argOption
    const options = list.split(', ')
    return withHelp(`invalid argument '${value}': expected one of ${options.join(', ')}${didYouMean(value, options)}`, help)
  }
  const parsing = /^Parsing --([\w-]+)\s*\n\s*(.*)$/s.exec(text)
  if (parsing) {
    const [, flag, reason] = parsing
    const integer = /^Expected an integer(.*?) but received: (.*)$/s.exec(reason.trim())
    if (integer) return withHelp(`invalid value '${integer[2]}' for --${flag}: expected an integer${integer[1]}`, help)
    return withHelp(`invalid value for --${flag}: ${oneLine(reason)}`, help)
  }
  const needsValue = /^Flag --([\w-]+) expects a value$/.exec(text)
  if (needsValue) return withHelp(`--${needsValue[1]} needs a value`, help)
  const needsOption = /^Flag --([\w-]+) expects one of these values: (.*)$/.exec(text)
  if (needsOption) return withHelp(`--${needsOption[1]} needs a value: one of ${needsOption[2]}`, help)
  const once = /^Flag --([\w-]+) can only be specified once$/.exec(text)
  if (once) return withHelp(`--${once[1]} given twice: it takes one value`, help)
  const conflicts = conflictingFlags(text)
  if (conflicts.length > 0) return withHelp(`${conflicts.map(([a, b]) => `${a} and ${b} cannot be combined`).join('; ')}`, help)
  return withHelp(`${oneLine(text.replace(/^The following errors? occurred:/, ''))}`, help)
}

/** Whether an error is one of oclif's parse errors, or one of the flag errors its parser throws without marking them as such. */
export function isUsageError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  if ('parse' in err) return true
  return /^Flag --[\w-]+ (expects a value|expects one of these values: |can only be specified once)/.test((err as Error).message ?? '')
}

/** `--json=1`: oclif takes a switch given a value for an argument, and then blames the real argument; this finds the switch. */
function switchWithValue(err: OclifParseError, context?: UsageContext): string | undefined {
  const parse = (err as {parse?: {input?: {argv?: unknown}}}).parse
  const argv = Array.isArray(parse?.input?.argv) ? (parse!.input!.argv as unknown[]) : []
  const flags = new Set(context?.flags ?? [])
  return argv.find((a): a is string => typeof a === 'string' && /^--[\w-]+=/.test(a) && flags.has(a.slice(2, a.indexOf('='))))
}

function unknownFlag(flag: string, context?: UsageContext): string {
  if (!context) return `unknown flag '${flag}'`
  if (flag === '--json' && !context.json) return `${context.command} prints no JSON and takes no --json`
  if (!flag.startsWith('--')) return `unknown flag '${flag}'`
  const known = context.flags.filter((f) => f !== 'json' || context.json).map((f) => `--${f}`)
  return `unknown flag '${flag}'${didYouMean(flag.split('=')[0], known)}`
}

/** Pairs of flags named as exclusive in oclif's validation text, each pair once, in the order the user met them. */
function conflictingFlags(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const m of text.matchAll(/(--[\w-]+)=\S+ cannot also be provided when using (--[\w-]+)/g)) {
    const [, flag, other] = m
    if (!pairs.some(([a, b]) => (a === flag && b === other) || (a === other && b === flag))) pairs.push([other, flag])
  }
  return pairs
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ')
    .replace(/\s{2,}/g, ' ')
}
