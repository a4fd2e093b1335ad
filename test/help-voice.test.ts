// Help and errors in walctl's voice, and output scaled to the reader: every
// framework message is one walctl line (with the closest flag or value when
// something is mistyped), each command's help lists its own exit codes and
// every flag's default, one letter means one flag across the CLI, verify is one
// line on a clean WAL, --quiet silences every report, and a writer that waits
// for the lock says for whom, once, at a terminal.
import test from 'ava'
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {BIN, ROOT, walctl} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'
import {walctlTty} from './helpers/tty.js'

interface ManifestFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  description?: string
  helpGroup?: string
  required?: boolean
}
interface ManifestCommand {
  id: string
  flags: Record<string, ManifestFlag>
  exitCodes?: Record<string, string>
}
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const ids = Object.keys(manifest.commands).sort()

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean)
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${stderr}`)
  return lines[0]
}

test('framework errors become one walctl line: suggestions, both sides of a conflict once, no notes, exit 64', (t) => {
  const wal = copyFixture('small')
  const cases: Array<[string[], RegExp]> = [
    [['verify', wal, '--jsn'], /^walctl: unknown flag '--jsn'; did you mean '--json'\? See 'walctl verify --help'$/],
    [['verify', wal, '--quite'], /did you mean '--quiet'\?/],
    [['dump', wal, '--valid-only', '--damaged-only'], /^walctl: --valid-only and --damaged-only cannot be combined; see 'walctl dump --help'$/],
    [['dump'], /^walctl: missing required argument PATH \([^)]+\); see 'walctl dump --help'$/],
    [['recover', wal, '--mode', 'salvag'], /^walctl: invalid value 'salvag' for --mode: expected one of tolerate-tail, point-in-time, salvage; did you mean 'salvage'\?/],
    [['gc', wal, '--keep', 'x'], /^walctl: invalid value 'x' for --keep: expected an integer/],
    [['append', wal, 'x', '--wait'], /^walctl: --wait needs a value; see 'walctl append --help'$/],
    [['verify', wal, 'extra'], /^walctl: unexpected argument 'extra': walctl verify takes DIR only/],
    [['completion', 'zhs'], /^walctl: invalid argument 'zhs': expected one of bash, zsh, fish; did you mean 'zsh'\?/],
    [['verify', wal, '--json=1'], /^walctl: --json=1 takes no value: write --json alone/],
    [['gc', wal, '--keep', '1', '--keep', '2'], /^walctl: --keep given twice/],
    [['recover', wal, '--mode'], /^walctl: --mode needs a value: one of tolerate-tail, point-in-time, salvage/],
  ]
  for (const [args, expected] of cases) {
    const r = walctl(args)
    t.is(r.code, 64, `walctl ${args.join(' ')}`)
    t.is(r.stdout, '', `walctl ${args.join(' ')}: nothing on stdout`)
    const line = oneLine(r.stderr)
    t.regex(line, expected)
    t.notRegex(line, /Note:|following errors|Nonexistent|See more help/)
  }
})

test('help and completion are not offered --json: one line, exit 64, no help text', (t) => {
  for (const args of [['help', '--json'], ['help', 'verify', '--json'], ['completion', 'bash', '--json']]) {
    const r = walctl(args)
    t.is(r.code, 64, args.join(' '))
    t.is(r.stdout, '')
    t.regex(oneLine(r.stderr), /^walctl: walctl (help|completion) prints no JSON and takes no --json/)
    t.false(manifest.commands[args[0]].flags.json !== undefined, `${args[0]} lists no --json`)
  }
  const help = walctl(['help', 'verify'])
  t.is(help.code, 0)
  t.is(help.stdout, walctl(['verify', '--help']).stdout)
  const unknown = walctl(['help', 'verfy'])
  t.is(unknown.code, 64)
  t.regex(oneLine(unknown.stderr), /did you mean 'verify'/)
})

test("each command's help lists only the exit codes it can return", (t) => {
  const codesOf = (id: string): string[] => {
    const text = walctl([id, '--help']).stdout
    const section = text.slice(text.indexOf('\nEXIT CODES\n'))
    return [...section.matchAll(/^ {2}(\d+) /gm)].map((m) => m[1])
  }
  for (const id of ids) {
    const declared = Object.keys(manifest.commands[id].exitCodes ?? {})
    t.true(declared.length > 0, `${id} declares its exit codes`)
    t.deepEqual(codesOf(id), [...new Set([...declared, '70'])].sort((a, b) => Number(a) - Number(b)), id)
  }
  t.false(codesOf('init').includes('1'), "init does not list verify's 1")
  t.false(codesOf('init').includes('2'), "init does not list verify's 2")
  t.deepEqual(codesOf('verify').slice(0, 3), ['0', '1', '2'])
})

test("append's usage shows DATA; every option flag shows its default; --json says what it prints", (t) => {
  const append = walctl(['append', '--help']).stdout
  t.regex(append, /\$ walctl append DIR \[DATA\.\.\.\]/)
  t.regex(append, /^ {2}\[DATA\.\.\.\] +\S/m)
  t.notRegex(append, /DIR\.\.\./)
  for (const id of ids) {
    const text = walctl([id, '--help'], {env: {COLUMNS: '400'}}).stdout
    for (const flag of Object.values(manifest.commands[id].flags)) {
      if (flag.type === 'option' && !flag.required) t.regex(text, new RegExp(`--${flag.name}=\\S+ +\\[default: [^\\]]+\\]`), `${id} --${flag.name} shows its default`)
    }
    if (manifest.commands[id].flags.json) {
      t.regex(manifest.commands[id].flags.json.description ?? '', /^print .+ as one JSON document/, `${id} --json says what it prints`)
    }
  }
  t.regex(walctl(['dump', '--help'], {env: {COLUMNS: '400'}}).stdout, /--context=\S+ +\[default: 0\]/)
  t.regex(walctl(['dump', '--help'], {env: {COLUMNS: '400'}}).stdout, /--limit=\S+ +\[default: no limit\]/)
})

test('one meaning per short flag across all commands, and the README lists them', (t) => {
  const meanings = new Map<string, Set<string>>()
  for (const id of ids) {
    for (const flag of Object.values(manifest.commands[id].flags)) {
      if (flag.char) meanings.set(flag.char, (meanings.get(flag.char) ?? new Set()).add(flag.name))
    }
  }
  for (const [char, names] of meanings) t.is(names.size, 1, `-${char} means ${[...names].join(' and ')}`)
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  for (const [char, names] of meanings) t.regex(readme, new RegExp(`\`-${char}\` +\\| +\`--${[...names][0]}\``), `README: -${char}`)
  t.deepEqual([...meanings.keys()].sort(), ['f', 'l', 'm', 'n', 'o', 'q', 's'])
})

test('the top-level help has examples', (t) => {
  const r = walctl(['--help'])
  const examples = r.stdout.slice(r.stdout.indexOf('\nEXAMPLES\n'), r.stdout.indexOf('\nEXIT CODES\n'))
  t.true(examples.length > 0)
  t.true([...examples.matchAll(/^ +\$ walctl \w+/gm)].length >= 5)
})

test('verify: one line on a clean WAL, a line per segment only with --verbose, problems always', (t) => {
  const wal = copyFixture('rotation')
  const clean = walctl(['verify', wal])
  t.is(clean.code, 0)
  t.regex(clean.stdout, /^clean: 5 segment\(s\), \d+ record\(s\), [^\n]+ of payload\n$/)
  const verbose = walctl(['verify', wal, '--verbose'])
  t.is(verbose.code, 0)
  t.is(verbose.stdout.split('\n').filter(Boolean).length, 6)
  t.regex(verbose.stdout, /^wal_000001\.log {2}.+ clean\n/)

  const file = path.join(wal, 'wal', 'wal_000002.log')
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 97)
  fs.closeSync(fd)
  const damaged = walctl(['verify', wal])
  t.is(damaged.code, 2)
  const lines = damaged.stdout.split('\n').filter(Boolean)
  t.false(lines.some((l) => /^wal_\d+\.log {2}/.test(l)), 'no segment lines without --verbose')
  t.regex(lines[0], /^damaged: .*wal_000002\.log: offset 89/)
  t.true(lines.some((l) => /^damaged: 5 segment\(s\)/.test(l)))
  const report = JSON.parse(walctl(['verify', wal, '--json']).stdout) as {problems: unknown[]}
  t.is(lines.filter((l) => /: offset \d+/.test(l)).length, report.problems.length, 'one line per problem')
})

test('verify: the tail re-reads (in case a writer was mid-record) are noted only with --verbose', (t) => {
  const wal = copyFixture('small')
  // small's records end at 839: a length with no record after it is a torn tail, which verify reads again before reporting it.
  const fd = fs.openSync(path.join(wal, 'wal', 'wal_000001.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5]), 0, 9, 839)
  fs.closeSync(fd)
  const plain = walctl(['verify', wal])
  t.is(plain.code, 1)
  t.notRegex(plain.stdout, /re-read/)
  t.is(plain.stdout.split('\n').filter(Boolean).length, 3, 'the problem, the verdict and the repair hint')
  const verbose = walctl(['verify', wal, '--verbose'])
  t.is(verbose.code, 1)
  t.regex(verbose.stdout, /^wal_000001\.log .*tail re-read \d+ time\(s\) in case a writer was mid-record/m)
})

test('--quiet on verify, gc, recover, init and rotate: nothing on stdout, the same exit code; with --json or --verbose a usage error', (t) => {
  const root = tempDir('walctl-quiet-')
  const wal = path.join(root, 'wal')
  const runs: Array<[string[], number]> = [
    [['init', wal, '--segment-size', '4KiB', '--quiet'], 0],
    [['rotate', wal, '-q'], 0],
    [['rotate', wal, '--quiet'], 0],
    [['verify', wal, '--quiet'], 0],
    [['gc', wal, '--keep', '1', '--quiet'], 0],
    [['recover', wal, '--quiet'], 0],
  ]
  for (const [args, code] of runs) {
    const r = walctl(args)
    t.is(r.code, code, `${args.join(' ')}: ${r.stderr}`)
    t.is(r.stdout, '', `${args[0]} --quiet prints nothing`)
    t.is(r.stderr, '')
  }
  t.deepEqual(fs.readdirSync(wal).filter((f) => f.endsWith('.log')), ['wal_000003.log'], 'the commands did their work')
  t.is(walctl(['rotate', wal]).stdout, '4\n', 'without --quiet rotate prints the id')
  for (const args of [['verify', wal, '--quiet', '--json'], ['gc', wal, '--keep', '1', '--quiet', '--json'], ['verify', wal, '--quiet', '--verbose']]) {
    const r = walctl(args)
    t.is(r.code, 64, args.join(' '))
    const message = args.includes('--json') ? (JSON.parse(r.stdout) as {error: {message: string}}).error.message : oneLine(r.stderr)
    t.regex(message, /--quiet and --(json|verbose) cannot be combined/)
  }
})

test('a flag that would have no effect is a usage error naming it and what it needs; nothing changes', (t) => {
  const wal = copyFixture('small')
  const cases: Array<[string[], RegExp]> = [
    [['append', wal, 'x', '--input', 'hex'], /^walctl: --input has no effect without --stdin/],
    [['append', wal, 'x', '--skip-empty', '--batch-ms', '5'], /^walctl: --skip-empty and --batch-ms have no effect without --stdin/],
    [['gc', wal, '--keep', '1', '--dry-run', '--wait', '5'], /^walctl: --wait has no effect with --dry-run/],
    [['recover', wal, '-n', '--wait', '5'], /^walctl: --wait has no effect with --dry-run/],
  ]
  const before = fs.readFileSync(path.join(wal, 'wal', 'wal_000001.log'))
  for (const [args, expected] of cases) {
    const r = walctl(args)
    t.is(r.code, 64, args.join(' '))
    t.regex(oneLine(r.stderr), expected)
    t.is(r.stdout, '')
  }
  t.deepEqual(fs.readFileSync(path.join(wal, 'wal', 'wal_000001.log')), before)
  t.is(walctl(['append', wal, '--stdin', '--input', 'hex'], {input: '6869\n'}).code, 0, 'with --stdin they apply')
})

test('a missing argument is a usage error, never read from standard input (oclif would read it, and hang on an idle pipe)', async (t) => {
  for (const args of [['verify'], ['dump'], ['append'], ['completion']]) {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe']})
    child.stdin.write('/tmp\n')
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    clearTimeout(timer)
    t.is(code, 64, `${args[0]} with an open pipe on stdin: ${stderr}`)
    t.regex(oneLine(stderr), /missing required argument|nothing to append/)
  }
  const piped = walctl(['append', copyFixture('small'), '--stdin'], {input: 'x\n'})
  t.is(piped.code, 0)
  t.regex(piped.stdout, /^\d+:\d+\n$/, 'one record: the line, not the directory too')
})

test('a writer waiting for the lock says once, at a terminal, whom it waits for; not in a pipe', async (t) => {
  const wal = copyFixture('small')
  const child = spawn(process.execPath, [BIN, 'append', wal, '--stdin'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'ignore', 'inherit']})
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
  const lockFile = path.join(wal, 'wal', '.walctl.lock')
  for (let i = 0; i < 600 && !fs.existsSync(lockFile); i++) await new Promise((r) => setTimeout(r, 50))
  try {
    const tty = walctlTty(['append', wal, 'contender', '--wait', '0.6'])
    t.is(tty.code, 75, tty.output)
    const waiting = tty.output.split('\n').filter((l) => /waiting up to/.test(l))
    t.is(waiting.length, 1, tty.output)
    t.regex(waiting[0], new RegExp(`^walctl: waiting up to 0\\.6s for the writer lock held by pid ${child.pid} `))
    const piped = walctl(['append', wal, 'contender', '--wait', '0.3'])
    t.is(piped.code, 75)
    t.notRegex(piped.stderr, /waiting up to/)
    t.is(piped.stderr.split('\n').filter(Boolean).length, 1)
  } finally {
    child.stdin.end('last\n')
    t.is(await exited, 0)
  }
})
