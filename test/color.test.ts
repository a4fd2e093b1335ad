// Colour only at a terminal; NO_COLOR, FORCE_COLOR, --color and --no-color
// honoured; nothing but data on stdout. Real processes, at a real
// pseudo-terminal (script(1)) and through pipes.
import test from 'ava'
import * as path from 'node:path'
import {colorFlagIn, shouldColor} from '../src/cli/color.js'
import {walctl} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'
import * as fs from 'node:fs'
import {HAVE_SCRIPT, walctlTty} from './helpers/tty.js'

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/
const RED_PREFIX = '\x1b[31mwalctl:\x1b[39m'

const decisions: Array<[string, {env?: NodeJS.ProcessEnv; argv?: string[]; isTTY: boolean}, boolean]> = [
  ['a terminal', {isTTY: true}, true],
  ['a pipe', {isTTY: false}, false],
  ['a dumb terminal', {env: {TERM: 'dumb'}, isTTY: true}, false],
  ['NO_COLOR at a terminal', {env: {NO_COLOR: '1'}, isTTY: true}, false],
  ['an empty NO_COLOR, which no-color.org says to ignore', {env: {NO_COLOR: ''}, isTTY: true}, true],
  ['FORCE_COLOR in a pipe', {env: {FORCE_COLOR: '1'}, isTTY: false}, true],
  ['an empty FORCE_COLOR in a pipe', {env: {FORCE_COLOR: ''}, isTTY: false}, true],
  ['FORCE_COLOR=0 at a terminal', {env: {FORCE_COLOR: '0'}, isTTY: true}, false],
  ['FORCE_COLOR=false at a terminal', {env: {FORCE_COLOR: 'false'}, isTTY: true}, false],
  ['FORCE_COLOR over NO_COLOR', {env: {FORCE_COLOR: '1', NO_COLOR: '1'}, isTTY: false}, true],
  ['--no-color at a terminal', {argv: ['verify', 'x', '--no-color'], isTTY: true}, false],
  ['--no-color over FORCE_COLOR', {env: {FORCE_COLOR: '3'}, argv: ['--no-color'], isTTY: false}, false],
  ['--color in a pipe', {argv: ['--color'], isTTY: false}, true],
  ['--color over NO_COLOR', {env: {NO_COLOR: '1'}, argv: ['--color'], isTTY: false}, true],
  ['the last of --color and --no-color', {argv: ['--color', '--no-color'], isTTY: true}, false],
  ['--no-color after -- is data, not a flag', {argv: ['append', 'w', '--', '--no-color'], isTTY: true}, true],
]

for (const [name, {env = {}, argv = [], isTTY}, expected] of decisions) {
  test(`colour decision: ${name} -> ${expected ? 'colour' : 'none'}`, (t) => {
    t.is(shouldColor({env, argv, isTTY}), expected)
  })
}

test('colorFlagIn reads only options before --', (t) => {
  t.is(colorFlagIn(['verify', 'x']), undefined)
  t.is(colorFlagIn(['--no-color', '--', '--color']), false)
})

test('script(1) is there to give the child processes a terminal', (t) => {
  t.true(HAVE_SCRIPT, 'util-linux script is needed for the terminal tests')
})

const missing = path.join(tempDir(), 'no-such-wal')

test('at a terminal, an error line is coloured', (t) => {
  const r = walctlTty(['verify', missing])
  t.is(r.code, 66)
  t.true(r.output.startsWith(RED_PREFIX), JSON.stringify(r.output))
  t.regex(r.output, /no such file or directory/)
})

const plainAtTty: Array<[string, string[], NodeJS.ProcessEnv]> = [
  ['NO_COLOR=1', [], {NO_COLOR: '1'}],
  ['--no-color', ['--no-color'], {}],
  ['FORCE_COLOR=0', [], {FORCE_COLOR: '0'}],
  ['TERM=dumb', [], {TERM: 'dumb'}],
]
for (const [name, extra, env] of plainAtTty) {
  test(`at a terminal with ${name}, no escape sequence at all`, (t) => {
    const r = walctlTty(['verify', missing, ...extra], {env})
    t.is(r.code, 66)
    t.notRegex(r.output, ANSI)
    t.regex(r.output, /^walctl: .*no-such-wal: cannot open: no such file or directory\n$/)
  })
}

test('in a pipe there is no colour, and the error goes to stderr only', (t) => {
  const r = walctl(['verify', missing], {env: {NO_COLOR: undefined}})
  t.is(r.code, 66)
  t.is(r.stdout, '')
  t.notRegex(r.stderr, ANSI)
  t.regex(r.stderr, /^walctl: /)
})

test('FORCE_COLOR and --color colour a pipe; --no-color beats FORCE_COLOR', (t) => {
  const forced = walctl(['verify', missing], {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}})
  t.true(forced.stderr.startsWith(RED_PREFIX))
  const flag = walctl(['verify', missing, '--color'])
  t.true(flag.stderr.startsWith(RED_PREFIX), 'the test helper sets NO_COLOR=1; --color overrides it')
  const off = walctl(['verify', missing, '--no-color'], {env: {FORCE_COLOR: '1'}})
  t.is(off.code, 66)
  t.notRegex(off.stderr, ANSI)
})

test('--json keeps stdout pure JSON even with colour forced', (t) => {
  const r = walctl(['verify', missing, '--json'], {env: {FORCE_COLOR: '1'}})
  t.is(r.code, 66)
  t.notRegex(r.stdout, ANSI)
  t.like(JSON.parse(r.stdout), {error: {exitCode: 66}})
})

test('--color and --no-color are accepted by every walctl command', (t) => {
  const help = walctl(['--help'])
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]).filter((c) => c !== 'help' && c !== 'autocomplete')
  t.true(commands.length >= 6, commands.join(' '))
  for (const command of commands) {
    const r = walctl([command, '--help'])
    t.regex(r.stdout, /--\[no-\]color/, `${command} --help documents --[no-]color`)
  }
})

test('the verify report at a terminal: verdicts and severities coloured; piped or with NO_COLOR, plain and identical', (t) => {
  const dir = copyFixture('small')
  const fd = fs.openSync(path.join(dir, 'wal', 'wal_000001.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 97)
  fs.closeSync(fd)
  const tty = walctlTty(['verify', dir])
  t.is(tty.code, 2)
  t.regex(tty.output, /\x1b\[31m\x1b\[1mdamaged\x1b\[22m\x1b\[39m: 1 segment\(s\)/)
  t.regex(tty.output, /^\x1b\[31mdamaged\x1b\[39m: .*crc-mismatch/m)
  const plainTty = walctlTty(['verify', dir], {env: {NO_COLOR: '1'}})
  const piped = walctl(['verify', dir])
  t.notRegex(plainTty.output, ANSI)
  t.is(plainTty.output, piped.stdout, 'the same text, colour aside')
  t.is(tty.output.replace(/\x1b\[[0-9;]*m/g, ''), piped.stdout)
  const clean = walctlTty(['verify', copyFixture('small')])
  t.regex(clean.output, /\x1b\[32mclean\x1b\[39m: 1 segment/)
})

test('the recover report at a terminal: the verdicts before and after coloured', (t) => {
  const dir = copyFixture('small')
  const fd = fs.openSync(path.join(dir, 'wal', 'wal_000001.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5]), 0, 9, 839)
  fs.closeSync(fd)
  const r = walctlTty(['recover', dir])
  t.is(r.code, 0)
  t.regex(r.output, /: \x1b\[33mrepairable\x1b\[39m, 10 valid record/)
  t.regex(r.output, /^after: \x1b\[32mclean\x1b\[39m/m)
})
