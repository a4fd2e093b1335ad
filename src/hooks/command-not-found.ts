// An unknown command is a usage error: exit 64 with walctl's one-line error
// (or its JSON error under --json), naming the closest command, instead of
// oclif's generic exit 1.
import {Errors, Hook} from '@oclif/core'
import {ExitCode} from '../core/errors.js'
import {ErrorJson} from '../cli/base.js'
import {paint} from '../cli/color.js'
import {closest, didYouMean, withHelp} from '../cli/closest.js'

const hook: Hook.CommandNotFound = async function (options) {
  // With a space as topic separator oclif joins the arguments into the id; walctl has no topics, so the first word is the command.
  const id = options.id.split(':')[0]
  const known = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  if (id.startsWith('-')) return fail(withHelp(`unknown option '${id}'${didYouMean(id, ['--help', '--version'])}`, `see '${options.config.bin} --help'`), options.argv ?? [])
  const near = closest(id, known).map((c) => `'${c}'`).join(' or ')
  const message = `unknown command '${id}'${near ? `; did you mean ${near}?` : '.'} See '${options.config.bin} --help' for the commands.`
  fail(message, options.argv ?? [])
}

function fail(message: string, argv: string[]): never {
  if (argv.includes('--json')) {
    const body: ErrorJson = {error: {message, exitCode: ExitCode.USAGE}}
    process.stdout.write(JSON.stringify(body, null, 2) + '\n')
  } else {
    process.stderr.write(`${paint('stderr').red('walctl:')} ${message}\n`)
  }
  Errors.exit(ExitCode.USAGE)
}

export default hook
