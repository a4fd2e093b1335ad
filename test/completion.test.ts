// `walctl completion bash|zsh|fish`: a static script from the commands of the
// install. The bash script runs in a real bash: sourced, then its function
// driven with COMP_WORDS/COMP_CWORD as bash's completion would, and its
// registration checked with `complete -p`.
import test from 'ava'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ROOT, walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, {flags: Record<string, {name: string; type: string; options?: string[]}>}>
}
const ids = Object.keys(manifest.commands).sort()

/** The bash script, printed once with an empty HOME: completion keeps no cache anywhere. */
const home = tempDir('walctl-home-')
const printed = walctl(['completion', 'bash'], {env: {HOME: home, XDG_CACHE_HOME: path.join(home, '.cache')}})
const script = path.join(tempDir('walctl-completion-'), 'walctl.bash')
fs.writeFileSync(script, printed.stdout)

function bash(body: string, cwd?: string): string {
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${JSON.stringify(script)}\n${body}`], {encoding: 'utf8', cwd})
  if (r.status !== 0 || r.stderr !== '') throw new Error(`bash failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** What the completion function offers for the command line `words`, the last being the word under the cursor. */
function complete(words: string[], cwd?: string): string[] {
  const array = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ')
  return bash(`COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _walctl; printf '%s\\n' "\${COMPREPLY[@]}"`, cwd)
    .split('\n')
    .filter(Boolean)
}

test('the script is printed without errors and without writing anything outside the install', (t) => {
  t.is(printed.code, 0, printed.stderr)
  t.is(printed.stderr, '')
  t.deepEqual(fs.readdirSync(home), [], 'nothing written under HOME')
  t.regex(printed.stdout, /^# bash completion for walctl/)
})

test('bash: registered with -o default and -o bashdefault, so that bash completes paths when the function offers nothing', (t) => {
  const spec = bash('complete -p walctl').trim()
  t.regex(spec, /(^| )-o default( |$)/)
  t.regex(spec, /(^| )-o bashdefault( |$)/)
  t.regex(spec, / -F _walctl walctl$/)
})

test('bash: commands, flags at any position (also after a path), and no sed or other error', (t) => {
  t.deepEqual(complete(['walctl', '']), ids)
  t.deepEqual(complete(['walctl', 've']), ['verify'])
  t.deepEqual(complete(['walctl', 're']), ['recover', 'restore'])
  t.deepEqual(complete(['walctl', 'rec']), ['recover'])
  t.deepEqual(complete(['walctl', 'verify', './wal', '--q']), ['--quiet'])
  t.deepEqual(complete(['walctl', 'verify', '--q']), ['--quiet'])
  t.deepEqual(complete(['walctl', 'dump', '/var/lib/shardex/index', '--from', '2:89', '--dam']), ['--damaged-only'])
  t.deepEqual(complete(['walctl', 'gc', './wal', '--keep', '3', '--dr']), ['--dry-run'])
  t.deepEqual(complete(['walctl', 'dump', './wal', '--no-co']), ['--no-color'])
  t.deepEqual(complete(['walctl', '--']), ['--help', '--version'])
  t.deepEqual(complete(['walctl', 'help', 'ap']), ['append'])
  t.deepEqual(complete(['walctl', 'completion', '']), ['bash', 'zsh', 'fish'])
  for (const id of ids) {
    const offered = complete(['walctl', id, 'somewhere', '--'])
    for (const flag of Object.values(manifest.commands[id].flags)) t.true(offered.includes(`--${flag.name}`), `${id}: --${flag.name} is offered`)
  }
})

test('bash: the values of every enumerated flag, as --flag VALUE, --flag=VALUE and by its short letter', (t) => {
  t.deepEqual(complete(['walctl', 'dump', './wal', '--format', '']), ['table', 'jsonl', 'json', 'hex', 'raw'])
  t.deepEqual(complete(['walctl', 'dump', './wal', '-o', 'j']), ['jsonl', 'json'])
  t.deepEqual(complete(['walctl', 'dump', './wal', '--format', '=', 'h']), ['hex'])
  t.deepEqual(complete(['walctl', 'dump', './wal', '--encoding', '']), ['hex', 'base64', 'utf8'])
  t.deepEqual(complete(['walctl', 'recover', './wal', '--mode', '']), ['tolerate-tail', 'point-in-time', 'salvage'])
  t.deepEqual(complete(['walctl', 'recover', './wal', '-m', 's']), ['salvage'])
  t.deepEqual(complete(['walctl', 'append', './wal', '--stdin', '--input', '']), ['lines', 'hex', 'base64', 'raw'])
  for (const id of ids) {
    for (const flag of Object.values(manifest.commands[id].flags)) {
      if (flag.options) t.deepEqual(complete(['walctl', id, 'x', `--${flag.name}`, '']), flag.options, `${id} --${flag.name}`)
    }
  }
})

test('bash: paths complete as arguments, after flags and as the value of a flag that takes a path', (t) => {
  const sorted = (words: string[], cwd?: string): string[] => complete(words, cwd).sort()
  const dir = tempDir('walctl-paths-')
  fs.mkdirSync(path.join(dir, 'wal-one'))
  fs.mkdirSync(path.join(dir, 'wal-two'))
  fs.writeFileSync(path.join(dir, 'metrics.prom'), '')
  t.deepEqual(sorted(['walctl', 'verify', 'wal-'], dir), ['wal-one', 'wal-two'])
  t.deepEqual(sorted(['walctl', 'verify', `${dir}/wal-o`]), [`${dir}/wal-one`])
  t.deepEqual(sorted(['walctl', 'verify', '--quiet', 'wal-t'], dir), ['wal-two'])
  t.deepEqual(sorted(['walctl', 'verify', 'wal-one', '--prometheus', 'met'], dir), ['metrics.prom'])
  t.deepEqual(sorted(['walctl', 'gc', 'wal-one', '--archive', 'wal-t'], dir), ['wal-two'])
  t.deepEqual(sorted(['walctl', 'dump', '--format', 'json', 'wal-'], dir), ['wal-one', 'wal-two'], 'a path after a flag and its value')
})

test('zsh and fish: every command, every flag and every enumerated value is in the script', (t) => {
  for (const shell of ['zsh', 'fish']) {
    const r = walctl(['completion', shell])
    t.is(r.code, 0, r.stderr)
    for (const id of ids) {
      t.regex(r.stdout, shell === 'zsh' ? new RegExp(`^ {4}'${id}:`, 'm') : new RegExp(`-a ${id} -d `), `${shell}: ${id}`)
      for (const flag of Object.values(manifest.commands[id].flags)) {
        t.true(r.stdout.includes(shell === 'zsh' ? `--${flag.name}` : `-l ${flag.name}`), `${shell}: ${id} --${flag.name}`)
        if (flag.options) t.true(r.stdout.includes(shell === 'zsh' ? `(${flag.options.join(' ')})` : `'${flag.options.join(' ')}'`), `${shell}: ${id} --${flag.name} values`)
      }
    }
  }
  t.regex(walctl(['completion', 'zsh']).stdout, /^#compdef walctl\n/)
})
