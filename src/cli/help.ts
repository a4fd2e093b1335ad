// walctl's help: oclif's, plus the exit code table (scripts branch on those
// codes, so they belong where people look first) and the environment that
// changes walctl's behaviour.
import {Command, Help} from '@oclif/core'
import {ExitCode} from '../core/errors.js'

/** Every exit code walctl uses and what it means; the README's table says the same. */
export const EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.OK, 'success; verify: the WAL is clean'],
  [ExitCode.REPAIRABLE, 'verify: repairable damage (walctl recover removes it without losing a complete record)'],
  [ExitCode.DAMAGED, 'damaged (a complete record lost or hidden, a broken header, a missing segment) or an operation refused because it would lose data'],
  [ExitCode.USAGE, 'usage error: unknown command or flag, bad argument or value'],
  [ExitCode.DATA, 'bad data: an empty or oversized record, a malformed input line, a damaged segment refused for writing'],
  [ExitCode.NO_INPUT, 'missing input: no such file or directory, no segments, permission denied on reading'],
  [70, 'internal error: a bug in walctl (run again with WALCTL_DEBUG=1 and report the stack trace)'],
  [ExitCode.CANT_CREATE, 'cannot create: the target exists (init on a WAL), a directory or file cannot be written'],
  [ExitCode.IO, 'I/O error while reading, writing or syncing'],
  [ExitCode.LOCKED, 'locked: another walctl writer holds the WAL; retry later'],
]

const ENVIRONMENT: ReadonlyArray<readonly [string, string]> = [
  ['NO_COLOR', 'set and non-empty: never colour (--color overrides)'],
  ['FORCE_COLOR', 'colour even when not at a terminal; 0 or false: never (--no-color overrides)'],
  ['WALCTL_DEBUG', 'set: print the stack trace of an error'],
  ['COLUMNS', 'dump: the table width when stdout is not a terminal'],
]

export default class WalHelp extends Help {
  protected async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(this.exitCodeSection())
    this.log('')
    this.log(this.section('ENVIRONMENT', this.renderList(ENVIRONMENT.map(([k, v]) => [k, v]), {indentation: 2, spacer: '\n'})))
    this.log('')
  }

  async showCommandHelp(command: Command.Loadable): Promise<void> {
    await super.showCommandHelp(command)
    // Plugin commands (help, autocomplete) do not use walctl's codes.
    if (command.pluginType === 'core') {
      this.log(this.exitCodeSection())
      this.log('')
    }
  }

  private exitCodeSection(): string {
    return this.section('EXIT CODES', this.renderList(EXIT_CODES.map(([code, meaning]) => [String(code), meaning]), {indentation: 2, spacer: '\n'}))
  }
}
