// An unknown command is a usage error: exit 64 with walctl's one-line error
// (or its JSON error under --json), naming the closest command, instead of
// oclif's generic exit 1.
import {Errors, Hook} from '@oclif/core'
import {ExitCode} from '../core/errors.js'
import {ErrorJson} from '../cli/base.js'
import {paint} from '../cli/color.js'

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}

const hook: Hook.CommandNotFound = async function (options) {
  // With a space as topic separator oclif joins the arguments into the id; walctl has no topics, so the first word is the command.
  const id = options.id.split(':')[0]
  const known = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  const prefixed = known.filter((c) => c.startsWith(id)).sort()
  const near = known
    .map((c) => ({c, d: distance(id, c)}))
    .filter(({c, d}) => d <= Math.max(2, Math.floor(c.length / 3)))
    .sort((x, y) => x.d - y.d)
  const candidates = id.length > 0 && prefixed.length > 0 ? prefixed.slice(0, 3) : near.slice(0, 1).map(({c}) => c)
  const closest = candidates.map((c) => `'${c}'`).join(' or ')
  if (id.startsWith('-')) return fail(`unknown option '${id}'; see '${options.config.bin} --help'`, options.argv ?? [])
  const message = `unknown command '${id}'${closest ? `; did you mean ${closest}?` : '.'} See '${options.config.bin} --help' for the commands.`
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
