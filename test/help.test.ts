// Help: `walctl --help` lists every command with a one-line summary and the
// exit code table; every command has a description, examples and documented
// flags. Completion is in completion.test.ts, help's wording in help-voice.test.ts.
import test from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode} from '../src/core/errors.js'
import {EXIT_CODES} from '../src/cli/help.js'
import {ROOT, walctl} from './helpers/cli.js'

interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  examples?: string[]
  pluginType?: string
  flags: Record<string, {description?: string; hidden?: boolean}>
  args: Record<string, {description?: string}>
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const ownCommands = fs.readdirSync(path.join(ROOT, 'src', 'commands')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort()

test('the manifest holds every command in src/commands', (t) => {
  t.deepEqual(Object.keys(manifest.commands).sort(), ownCommands)
})

test('walctl --help lists every command with its one-line summary, and the exit code table', (t) => {
  const r = walctl(['--help'], {env: {OCLIF_COLUMNS: '200'}})
  t.is(r.code, 0)
  t.is(r.stderr, '')
  const commands = r.stdout.slice(r.stdout.indexOf('\nCOMMANDS\n'), r.stdout.indexOf('\nEXIT CODES\n'))
  for (const id of ownCommands) {
    const summary = manifest.commands[id]?.summary?.split('\n')[0]
    const line = new RegExp(`^ {2}${id} +(.+)$`, 'm').exec(commands)
    t.truthy(line, `${id} is listed`)
    if (summary && line) t.is(line[1], summary, `${id} shows its summary`)
  }
  const table = r.stdout.slice(r.stdout.indexOf('\nEXIT CODES\n'))
  for (const code of Object.values(ExitCode)) t.regex(table, new RegExp(`^ {2}${code} +\\S`, 'm'), `exit code ${code} is in the table`)
  t.deepEqual(EXIT_CODES.map(([c]) => c).filter((c) => c !== 70).sort((a, b) => a - b), Object.values(ExitCode).sort((a, b) => a - b))
  t.regex(r.stdout, /\nENVIRONMENT\n {2}NO_COLOR +/)
})

test('walctl help, walctl -h and walctl with no arguments show the same root help; -v the version', (t) => {
  const help = walctl(['--help'])
  t.is(walctl(['help']).stdout, help.stdout)
  t.is(walctl(['-h']).stdout, help.stdout)
  t.is(walctl(['verify', '-h']).stdout, walctl(['verify', '--help']).stdout)
  t.is(walctl(['-v']).stdout, walctl(['--version']).stdout)
  t.regex(walctl(['-v']).stdout, /^walctl\/\d+\.\d+\.\d+ /)
  const bare = walctl([])
  t.is(bare.code, 0)
  t.is(bare.stdout, help.stdout)
})

for (const id of ownCommands) {
  test(`${id}: a summary, a description, examples, and every flag and argument documented`, (t) => {
    const c = manifest.commands[id]
    t.truthy(c.summary, 'summary')
    t.true(!c.summary!.includes('\n') && c.summary!.length <= 100, 'the summary is one line')
    t.truthy(c.description, 'description')
    t.true((c.examples ?? []).length > 0, 'examples')
    for (const [name, flag] of Object.entries(c.flags)) if (!flag.hidden) t.truthy(flag.description, `--${name} is documented`)
    for (const [name, arg] of Object.entries(c.args)) t.truthy(arg.description, `argument ${name} is documented`)
    // help and completion print text only: they are not offered --json.
    for (const flag of ['help', 'completion'].includes(id) ? ['color'] : ['json', 'color']) t.truthy(c.flags[flag], `--${flag}`)
    const r = walctl([id, '--help'])
    t.is(r.code, 0)
    const own = Object.values(c.flags).some((f) => (f as {helpGroup?: string}).helpGroup !== 'GLOBAL')
    for (const section of ['USAGE', ...(own ? ['FLAGS'] : []), 'GLOBAL FLAGS', 'DESCRIPTION', 'EXAMPLES', 'EXIT CODES']) t.regex(r.stdout, new RegExp(`^${section}$`, 'm'))
    t.notRegex(r.stdout, /<%=/, 'example templates are rendered')
  })
}

test('an unknown command is a usage error (64) naming it and the closest command', (t) => {
  const r = walctl(['frobnicate', 'x'])
  t.is(r.code, 64)
  t.is(r.stderr, "walctl: unknown command 'frobnicate'. See 'walctl --help' for the commands.\n")
  t.is(r.stdout, '')
  const typo = walctl(['verfy', './wal'])
  t.is(typo.code, 64)
  t.regex(typo.stderr, /^walctl: unknown command 'verfy'; did you mean 'verify'\?/)
  const option = walctl(['--frobnicate'])
  t.is(option.code, 64)
  t.is(option.stderr, "walctl: unknown option '--frobnicate'; see 'walctl --help'\n")
  const json = walctl(['verfy', './wal', '--json'])
  t.is(json.code, 64)
  t.is(json.stderr, '')
  t.deepEqual(JSON.parse(json.stdout), {error: {message: "unknown command 'verfy'; did you mean 'verify'? See 'walctl --help' for the commands.", exitCode: 64}})
})
