// Arguments and flags several commands share, and their parsing.
import {Args, Flags} from '@oclif/core'
import {ExitCode, WalError} from '../core/errors.js'
import {parsePosition, Position} from '../core/format/names.js'
import {parseSize} from '../core/format/units.js'

// oclif reads a missing argument from standard input when it is not a terminal (ignoreStdin turns that off): standard input is
// for `append --stdin`, and a read that never ends (a FIFO, an idle pipe) must not hang a command that lacks its argument.
export const walDirArg = Args.string({
  name: 'DIR',
  required: true,
  ignoreStdin: true,
  description: 'WAL directory holding wal_NNNNNN.log segments, or a Shardex index root holding wal/',
})

export function sizeFlagValue(text: string, flag: string): number {
  const size = parseSize(text)
  if (size === undefined) throw new WalError(ExitCode.USAGE, `invalid size '${text}' for --${flag}: give bytes or a binary unit, e.g. 4096, 64KiB, 1MiB, 1M`)
  return size
}

export function positionValue(text: string, flag: string): Position {
  const pos = parsePosition(text)
  if (!pos) throw new WalError(ExitCode.USAGE, `invalid position '${text}' for --${flag}: expected SEGMENT:OFFSET in decimal, e.g. 3:89`)
  return pos
}

/** `--json`, saying what it prints (oclif's own says only "Format output as json."). */
export function jsonFlag(what: string) {
  return Flags.boolean({
    description: `print ${what} as one JSON document on stdout instead of text (shapes: docs/JSON.md); an error as {"error": {message, exitCode, ...}}`,
    helpGroup: 'GLOBAL',
  })
}

export const quietFlag = Flags.boolean({char: 'q', description: 'print nothing on stdout; the exit code tells the outcome, errors still go to stderr'})

/** Who reads a command's report: a script (quiet), an operator (normal) or someone digging (verbose). */
export type ReportLevel = 'quiet' | 'normal' | 'verbose'

/** The report level the flags ask for; flags that contradict each other or --json are a usage error naming both. */
export function reportLevel(flags: {quiet?: boolean; verbose?: boolean}, json: boolean): ReportLevel {
  const given = [flags.quiet && '--quiet', flags.verbose && '--verbose', json && '--json'].filter((f): f is string => Boolean(f))
  if (given.length > 1) {
    const what: Record<string, string> = {'--quiet': 'prints nothing', '--verbose': 'adds detail to the text report', '--json': 'prints the whole report as JSON'}
    throw new WalError(ExitCode.USAGE, `${given[0]} and ${given[1]} cannot be combined: ${given[0]} ${what[given[0]]}, ${given[1]} ${what[given[1]]}`)
  }
  return flags.quiet ? 'quiet' : flags.verbose ? 'verbose' : 'normal'
}

/** Parse metadata as oclif returns it: which flags took their default rather than a value given. */
export interface FlagsMetadata {
  flags: Record<string, {setFromDefault?: boolean} | undefined>
}

/**
 * A flag given where it has no effect is a usage error naming the flag and what
 * it needs, so that nothing is silently ignored: `unless` is the flag (or
 * state) that gives `flags` a meaning.
 */
export function refuseIneffective(given: Record<string, unknown>, metadata: FlagsMetadata, names: string[], when: boolean, why: string): void {
  if (!when) return
  const used = names.filter((n) => given[n] !== undefined && given[n] !== false && !metadata.flags[n]?.setFromDefault)
  if (used.length > 0) throw new WalError(ExitCode.USAGE, `${used.map((n) => `--${n}`).join(' and ')} ${used.length === 1 ? 'has' : 'have'} no effect ${why}`)
}
