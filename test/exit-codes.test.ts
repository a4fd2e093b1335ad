// Every documented exit code, through real processes, with and without
// --json: the same code either way; without --json an error is one line on
// stderr and nothing on stdout; with --json stdout is one JSON document
// (the result, or {"error": ...}) and stderr stays empty.
import test, {ExecutionContext} from 'ava'
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode} from '../src/core/errors.js'
import {EXIT_CODES} from '../src/cli/help.js'
import {BIN, walctl} from './helpers/cli.js'
import {copyFixture, snapshot, tempDir} from './helpers/fixtures.js'

interface Case {
  name: string
  code: number
  /** Builds what the case runs on and returns walctl's arguments (without --json). */
  args: () => string[]
  input?: string
  /** The error names this file (error cases only). */
  file?: boolean
  /** Exit 2 as an error (a refusal) rather than as a verdict in the result. */
  error?: boolean
  /** A human-mode note on stderr is expected with a non-error exit (recover's refusal). */
  stderrNote?: RegExp
}

function poke(file: string, offset: number, bytes: number[]): void {
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset)
  fs.closeSync(fd)
}

function small(edit?: 'torn' | 'damaged'): string {
  const dir = copyFixture('small')
  const file = path.join(dir, 'wal', 'wal_000001.log')
  if (edit === 'torn') poke(file, 839, [0x40, 0, 0, 0, 1, 2, 3, 4, 5])
  if (edit === 'damaged') poke(file, 97, [0xff])
  return dir
}

const missing = (): string => path.join(tempDir(), 'nothing-here')

const cases: Case[] = [
  {name: 'init of a new WAL', code: 0, args: () => ['init', path.join(tempDir(), 'wal'), '--segment-size', '4KiB']},
  {name: 'verify of a clean WAL', code: 0, args: () => ['verify', copyFixture('rotation')]},
  {name: 'recover of a clean WAL (nothing to do)', code: 0, args: () => ['recover', copyFixture('small')]},
  {name: 'gc with nothing to remove', code: 0, args: () => ['gc', copyFixture('small'), '--keep', '1']},
  {name: 'dump of a damaged WAL (dump completes)', code: 0, args: () => ['dump', small('damaged'), '--format', 'jsonl']},
  {name: 'verify of a torn tail', code: 1, args: () => ['verify', small('torn')]},
  {name: 'verify of a lost record', code: 2, args: () => ['verify', small('damaged')]},
  {name: 'recover refusing a damaged WAL in tolerate-tail mode', code: 2, args: () => ['recover', small('damaged')], stderrNote: /refused/},
  {
    name: 'gc refusing a WAL with a missing segment', code: 2, args: () => {
      const dir = copyFixture('rotation')
      fs.rmSync(path.join(dir, 'wal', 'wal_000003.log'))
      return ['gc', dir, '--keep', '1']
    },
    error: true,
    file: true,
  },
  {name: 'an unknown flag', code: 64, args: () => ['verify', copyFixture('small'), '--frobnicate']},
  {name: 'a missing argument', code: 64, args: () => ['verify']},
  {name: 'an unknown command', code: 64, args: () => ['frobnicate']},
  {name: 'a malformed size', code: 64, args: () => ['init', path.join(tempDir(), 'wal'), '--segment-size', 'lots']},
  {name: 'a malformed position', code: 64, args: () => ['gc', copyFixture('small'), '--upto', 'three']},
  {name: 'append with nothing to append', code: 64, args: () => ['append', copyFixture('small')]},
  {name: 'an empty record', code: 65, args: () => ['append', copyFixture('small'), '']},
  {name: 'a record larger than a segment', code: 65, args: () => ['append', copyFixture('small'), 'x'.repeat(5000)]},
  {name: 'appending after damage', code: 65, args: () => ['append', small('damaged'), 'more'], file: true},
  {name: 'verify of a missing directory', code: 66, args: () => ['verify', missing()], file: true},
  {name: 'dump of a missing file', code: 66, args: () => ['dump', missing()], file: true},
  {name: 'append --file of a missing file', code: 66, args: () => ['append', copyFixture('small'), '--file', missing()], file: true},
  {name: 'init over an existing WAL', code: 73, args: () => ['init', copyFixture('small')], file: true},
  {name: 'an I/O error reading input (EIO from /proc/self/mem)', code: 74, args: () => ['append', copyFixture('small'), '--file', '/proc/self/mem'], file: true},
]

function runCase(t: ExecutionContext, c: Case, json: boolean): void {
  const args = c.args()
  const r = walctl(json ? [...args, '--json'] : args, {input: c.input})
  const isError = c.code >= 64 || c.error === true
  const label = `walctl ${args.join(' ').slice(0, 120)}${json ? ' --json' : ''}`
  t.is(r.code, c.code, `${label}: ${r.stderr}`)
  if (json) {
    t.is(r.stderr, '', `${label}: stderr stays empty`)
    const doc = JSON.parse(r.stdout) as {error?: {exitCode: number; file?: string}; exitCode?: number}
    if (isError) {
      t.is(doc.error?.exitCode, c.code, label)
      if (c.file) t.is(typeof doc.error?.file, 'string', `${label}: names the file`)
    } else {
      t.is(doc.error, undefined, label)
      if (doc.exitCode !== undefined) t.is(doc.exitCode, c.code, `${label}: the document's exitCode`)
    }
  } else if (isError) {
    t.is(r.stdout, '', `${label}: nothing on stdout`)
    t.regex(r.stderr, /^walctl: [^\n]+\n$/, `${label}: one line on stderr`)
  } else if (c.stderrNote) {
    t.regex(r.stderr, c.stderrNote)
  } else {
    t.is(r.stderr, '', `${label}: quiet stderr`)
  }
}

for (const c of cases) {
  test(`exit ${c.code}: ${c.name}`, (t) => runCase(t, c, false))
  test(`exit ${c.code} under --json: ${c.name}`, (t) => runCase(t, c, true))
}

test('every documented exit code but 70 (a bug) is produced by some case above, by the lock test below, or by real signals in test/signals.test.ts', (t) => {
  const produced = new Set([...cases.map((c) => c.code), ExitCode.LOCKED, ExitCode.SIGHUP, ExitCode.SIGINT, ExitCode.SIGTERM])
  t.deepEqual(EXIT_CODES.map(([code]) => code).filter((code) => code !== 70 && !produced.has(code)), [])
})

test('an error changes nothing on disk', (t) => {
  const dir = small('damaged')
  const before = snapshot(dir)
  t.is(walctl(['append', dir, 'more']).code, 65)
  t.is(walctl(['init', dir]).code, 73)
  t.is(walctl(['append', dir, '']).code, 65)
  t.deepEqual(snapshot(dir), before)
})

/** Starts `walctl append DIR --stdin` and waits until it holds the writer lock. Returns a function that lets it finish. */
async function holdLock(dir: string): Promise<() => Promise<number>> {
  const child = spawn(process.execPath, [BIN, 'append', dir, '--stdin'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'ignore', 'inherit']})
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
  const lockFile = path.join(dir, 'wal', '.walctl.lock')
  for (let i = 0; i < 600 && !fs.existsSync(lockFile); i++) await new Promise((r) => setTimeout(r, 100))
  if (!fs.existsSync(lockFile)) throw new Error('the holder never took the lock')
  return async () => {
    child.stdin.end('last\n')
    return exited
  }
}

test('exit 75 while another walctl writer holds the WAL, with and without --json', async (t) => {
  const dir = copyFixture('small')
  const release = await holdLock(dir)
  try {
    const plain = walctl(['append', dir, 'contender'])
    t.is(plain.code, 75, plain.stderr)
    t.is(plain.stdout, '')
    t.regex(plain.stderr, /^walctl: [^\n]+\n$/)
    const json = walctl(['rotate', dir, '--json'])
    t.is(json.code, 75)
    t.is(json.stderr, '')
    const doc = JSON.parse(json.stdout) as {error: {exitCode: number; message: string}}
    t.is(doc.error.exitCode, 75)
  } finally {
    t.is(await release(), 0)
  }
  t.is(walctl(['append', dir, 'after']).code, 0, 'the lock is free again')
})

test('usage errors are one readable line naming what is wrong', (t) => {
  const expectations: Array<[string[], string]> = [
    [['verify'], "walctl: missing required argument DIR (WAL directory holding wal_NNNNNN.log segments, or a Shardex index root holding wal/); see 'walctl verify --help'\n"],
    [['gc', 'x', '--keep', '0'], "walctl: invalid value '0' for --keep: expected an integer greater than or equal to 1; see 'walctl gc --help'\n"],
    [['recover', 'x', '--mode', 'bogus'], "walctl: invalid value 'bogus' for --mode: expected one of tolerate-tail, point-in-time, salvage; see 'walctl recover --help'\n"],
    [['verify', 'x', '--nope'], "walctl: unknown flag '--nope'; see 'walctl verify --help'\n"],
  ]
  for (const [args, stderr] of expectations) {
    const r = walctl(args)
    t.is(r.code, 64)
    t.is(r.stderr, stderr)
    t.is(r.stdout, '')
  }
})
