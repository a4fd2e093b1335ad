// walctl's help: oclif's, plus what scripts and operators look for first: the
// exit codes each command can return (scripts branch on them), every flag's
// default, examples at the top level, and the environment that changes
// walctl's behaviour.
import {Command, CommandHelp, Help} from '@oclif/core'
import {ExitCode} from '../core/errors.js'

/** Every exit code walctl uses and what it means; the README's table says the same. */
export const EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.OK, 'success; verify: the WAL is clean'],
  [ExitCode.REPAIRABLE, 'verify: repairable damage (walctl recover removes it without losing a complete record); recover: it changed the WAL, which is still not clean'],
  [ExitCode.DAMAGED, 'damaged (a complete record lost or hidden, a broken header, a missing segment) or an operation refused because it would lose data'],
  [ExitCode.USAGE, 'usage error: unknown command or flag, bad argument or value'],
  [ExitCode.DATA, 'bad data: an empty or oversized record, a malformed input line, a damaged segment refused for writing'],
  [ExitCode.NO_INPUT, 'missing input: no such file or directory, no segments, permission denied on reading'],
  [70, 'internal error: a bug in walctl (run again with WALCTL_DEBUG=1 and report the stack trace)'],
  [ExitCode.CANT_CREATE, 'cannot create: the target exists (init on a WAL), a directory or file cannot be written'],
  [ExitCode.IO, 'I/O error while reading, writing or syncing'],
  [ExitCode.LOCKED, 'locked: another walctl writer holds the WAL; retry later'],
  [129, 'interrupted by SIGHUP (128 + 1): a writer stopped at a safe point, everything acknowledged durable, the lock released'],
  [130, 'interrupted by SIGINT (128 + 2), as for SIGHUP'],
  [143, 'interrupted by SIGTERM (128 + 15), as for SIGHUP'],
]

/** The exit codes a command declares (`static exitCodes`), with what each means for it; every command can also exit 70. */
export function commandExitCodes(command: {exitCodes?: Record<string, string>}): Array<[string, string]> {
  const own = Object.entries(command.exitCodes ?? {})
  const general = new Map(EXIT_CODES.map(([code, meaning]) => [String(code), meaning]))
  const rows: Array<[string, string]> = own.map(([code, meaning]) => [code, meaning || general.get(code) || ''])
  if (!own.some(([code]) => code === '70')) rows.push(['70', general.get('70')!])
  return rows.sort((a, b) => Number(a[0]) - Number(b[0]))
}

const ENVIRONMENT: ReadonlyArray<readonly [string, string]> = [
  ['NO_COLOR', 'set and non-empty: never colour (--color overrides)'],
  ['FORCE_COLOR', 'colour even when not at a terminal; 0 or false: never (--no-color overrides)'],
  ['WALCTL_DEBUG', 'set: print the stack trace of an error'],
  ['COLUMNS', 'dump: the table width when stdout is not a terminal'],
]

const ROOT_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['walctl init ./wal --segment-size 64MiB', 'create a WAL'],
  ['seq 1 1000 | walctl append ./wal --stdin', 'append records; each position is printed once synced'],
  ['walctl verify ./wal', 'one line when clean; every problem with its segment and offset otherwise'],
  ['walctl recover ./wal --dry-run', 'what a repair would keep and drop'],
  ['walctl dump ./wal --damaged-only', 'the damaged byte ranges and why'],
  ['walctl gc ./wal --keep 10 --quiet', 'from cron: keep the newest 10 segments'],
  ['source <(walctl completion bash)', 'tab completion in bash (zsh, fish too)'],
]

/** What an option flag without a default value means when it is absent. */
const ABSENT: Record<string, string> = {
  wait: '0: fail at once',
  limit: 'no limit',
  from: 'the first record',
  to: 'the last record',
  'to-time': 'the last record',
  endpoint: 'AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS S3',
  'max-rate': 'no limit',
  jobs: 'the cores available, at most 4',
  segment: 'every segment',
  offset: 'every offset',
  format: 'table at a terminal, jsonl otherwise',
  prometheus: 'none',
  archive: 'none: delete',
  upto: 'none',
  keep: 'none',
  'max-total-size': 'no limit',
  'max-age': 'no limit',
  file: 'none',
  decode: 'none',
}

type FlagHelp = Command.Flag.Any

/** Every option flag says its default: oclif leaves out defaults of 0 and flags without one; a variadic last argument reads `DATA...`, not every argument. */
class WalCommandHelp extends CommandHelp {
  protected flags(flags: FlagHelp[]): [string, string | undefined][] | undefined {
    return super.flags(flags.map((flag) => withDefaultShown(flag)))
  }
}

function withDefaultShown(flag: FlagHelp): FlagHelp {
  // A required flag has no default to show.
  if (flag.type !== 'option' || flag.required) return flag
  const described = /^\[default: /.test(flag.description ?? '')
  if (flag.default !== undefined && flag.default !== null && flag.default !== '' && flag.default !== 0) return flag
  const shown = flag.default === 0 ? '0' : ABSENT[flag.name] ?? 'none'
  return described ? flag : {...flag, description: `[default: ${shown}] ${flag.description ?? ''}`}
}

/** oclif marks every argument of a non-strict command as variadic; walctl's only take more of the last one. */
function variadicLast(command: Command.Loadable): Command.Loadable {
  if (command.strict !== false) return command
  const names = Object.keys(command.args)
  const last = names.at(-1)
  const args = Object.fromEntries(names.map((n) => [n, n === last ? {...command.args[n], multiple: true} : command.args[n]]))
  return {...command, strict: true, args} as Command.Loadable
}

export default class WalHelp extends Help {
  /** `walctl help --help` is the help of the help command, not the root help oclif shows for it. */
  async showHelp(argv: string[]): Promise<void> {
    const help = this.config.findCommand('help')
    if (argv[0] === 'help' && help && argv.slice(1).some((a) => a === '--help' || a === '-h')) return this.showCommandHelp(help)
    return super.showHelp(argv)
  }

  protected async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(this.section('EXAMPLES', ROOT_EXAMPLES.map(([cmd, what]) => `${what[0].toUpperCase()}${what.slice(1)}:\n\n  $ ${cmd}`).join('\n\n')))
    this.log('')
    this.log(this.section('EXIT CODES', this.renderList(EXIT_CODES.map(([code, meaning]) => [String(code), meaning]), {indentation: 2, spacer: '\n'})))
    this.log('')
    this.log(this.section('ENVIRONMENT', this.renderList(ENVIRONMENT.map(([k, v]) => [k, v]), {indentation: 2, spacer: '\n'})))
    this.log('')
  }

  async showCommandHelp(command: Command.Loadable): Promise<void> {
    await super.showCommandHelp(command)
    const codes = commandExitCodes(command as {exitCodes?: Record<string, string>})
    this.log(this.section('EXIT CODES', this.renderList(codes, {indentation: 2, spacer: '\n'})))
    this.log('')
  }

  getCommandHelpClass(command: Command.Loadable): CommandHelp {
    return new WalCommandHelp(variadicLast(command), this.config, this.opts)
  }
}
