// Any input to `append` gets a bounded answer: a record is refused as soon as
// it is known to be larger than a segment holds, so /dev/zero, endless pipes
// and giant lines end with exit 65 in a moment and in tens of MiB, and nothing
// is appended. Hex and base64 decoding is linear: bad input is 65, never 70.
import {spawn, spawnSync, StdioOptions} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {maxPayloadSize} from '../src/core/format/format.js'
import {DecodeError, decodeBase64, decodeHex, trimBlanks} from '../src/core/input/decode.js'
import {BIN, walctl} from './helpers/cli.js'
import {snapshot, tempDir} from './helpers/fixtures.js'

const MiB = 1024 * 1024
const SEGMENT = MiB
const MAX = maxPayloadSize(SEGMENT)
const LIMIT = new RegExp(`larger than a segment of ${SEGMENT} bytes can hold \\(at most ${MAX}\\)`)
/**
 * Far more than a bounded answer needs, even on a loaded machine where a
 * walctl start-up alone can take seconds; the old code never finished.
 */
const TIMEOUT_MS = 60_000
/** A child past this much resident memory is reading its input whole (the old code took gigabytes): stopped early. */
const RSS_GUARD_KIB = 1024 * 1024

function newWal(size = SEGMENT): string {
  const dir = path.join(tempDir(), 'wal')
  const r = walctl(['init', dir, '--segment-size', String(size)])
  if (r.code !== 0) throw new Error(r.stderr)
  return dir
}

function records(dir: string): string[] {
  const r = walctl(['dump', dir, '--format', 'jsonl'])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as {data: string}).data)
}

function oneLine(stderr: string): boolean {
  return stderr.trim().split('\n').length === 1
}

interface Run {
  code: number | null
  stderr: string
  /** The child's peak resident memory in KiB, reported by the child itself as it exits. */
  peakKiB?: number
  /** Why the test killed the child, if it did: it ran past TIMEOUT_MS or RSS_GUARD_KIB. */
  killed?: 'timeout' | 'memory'
}

// Reports the process's peak RSS on fd 3 as it exits: measured from inside the real process, with no tool that may be missing.
const REPORT_PEAK = `data:text/javascript,import fs from 'node:fs';process.on('exit',()=>{try{fs.writeSync(3,String(process.resourceUsage().maxRSS))}catch{}})`

/**
 * Runs walctl with `stdin` as its standard input: a file descriptor, bytes,
 * or a string repeated without end (written until the child exits). The
 * child is killed after TIMEOUT_MS or past RSS_GUARD_KIB, which the caller
 * sees as `killed`.
 * Asynchronous, so that the timer and the memory guard run while it does.
 */
function run(args: string[], stdin: Stdin): Promise<Run> {
  return spawnAsync(process.execPath, [`--import=${REPORT_PEAK}`, BIN, ...args], stdin)
}

/** Runs a bash script in which `walctl` runs the real CLI. */
function bash(script: string): Promise<Run> {
  return spawnAsync('bash', ['-c', `walctl() { "$NODE" "$BIN" "$@"; }; ${script}`], 'ignore', {NODE: process.execPath, BIN})
}

type Stdin = number | 'ignore' | Buffer | {endless: string; head?: string}

function spawnAsync(program: string, argv: string[], stdin: Stdin, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const stdio: StdioOptions = [typeof stdin === 'object' ? 'pipe' : stdin, 'ignore', 'pipe', 'pipe']
    const child = spawn(program, argv, {stdio, env: {...process.env, NO_COLOR: '1', ...env}})
    const err: Buffer[] = []
    const peak: Buffer[] = []
    child.stderr!.on('data', (d: Buffer) => err.push(d))
    child.stdio[3]!.on('data', (d: Buffer) => peak.push(d))
    let killed: Run['killed']
    const kill = (why: Run['killed']): void => {
      killed ??= why
      child.kill('SIGKILL')
    }
    const timer = setTimeout(() => kill('timeout'), TIMEOUT_MS)
    const guard = setInterval(() => {
      try {
        const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (rss && Number(rss[1]) > RSS_GUARD_KIB) kill('memory')
      } catch {
        // Gone already, or no /proc: the timeout still bounds the test.
      }
    }, 100)
    if (Buffer.isBuffer(stdin)) {
      child.stdin!.on('error', () => {})
      child.stdin!.end(stdin)
    } else if (typeof stdin === 'object') {
      const input = child.stdin!
      const piece = Buffer.from(stdin.endless.repeat(Math.ceil(65_536 / stdin.endless.length)))
      // The child closing its end is how this ends: EPIPE is expected.
      input.on('error', () => {})
      if (stdin.head) input.write(stdin.head)
      const pump = (): void => {
        while (!input.destroyed && input.write(piece));
        if (!input.destroyed) input.once('drain', pump)
      }
      pump()
    }
    child.on('close', (code) => {
      clearTimeout(timer)
      clearInterval(guard)
      const text = Buffer.concat(peak).toString()
      resolve({code, stderr: Buffer.concat(err).toString(), peakKiB: text ? Number(text) : undefined, killed})
    })
  })
}

// The tests run one at a time: each starts children that read as fast as they
// can, and side by side on a loaded machine they would time the machine.
function devZero(): number {
  return fs.openSync('/dev/zero', 'r')
}

test.serial('--file /dev/zero: exit 65 naming the file and the limit, nothing appended', async (t) => {
  const dir = newWal()
  const before = snapshot(dir)
  const r = await run(['append', dir, '--file', '/dev/zero'], 'ignore')
  t.is(r.killed, undefined)
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, /^walctl: \/dev\/zero: record is larger than a segment/)
  t.regex(r.stderr, LIMIT)
  t.regex(r.stderr, new RegExp(`stopped reading after ${MAX + 1} bytes; nothing was appended`))
  t.true(oneLine(r.stderr), r.stderr)
  t.deepEqual(snapshot(dir), before)
})

test.serial('--stdin --input raw from /dev/zero: exit 65 naming <stdin> and the limit, nothing appended', async (t) => {
  const dir = newWal()
  const before = snapshot(dir)
  const fd = devZero()
  const r = await run(['append', dir, '--stdin', '--input', 'raw'], fd)
  fs.closeSync(fd)
  t.is(r.killed, undefined)
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, /^walctl: <stdin>: record is larger than a segment/)
  t.regex(r.stderr, LIMIT)
  t.true(oneLine(r.stderr), r.stderr)
  t.deepEqual(snapshot(dir), before)
})

for (const [format, endless] of [
  ['lines', 'x'],
  ['hex', 'ab'],
  ['base64', 'QUJD'],
] as const) {
  test.serial(`an endless ${format} line on stdin is refused while it is still being written`, async (t) => {
    const dir = newWal()
    const head = format === 'lines' ? 'one\ntwo\n' : format === 'hex' ? '6f6e65\n74776f\n' : 'b25l\ndHdv\n'
    const r = await run(['append', dir, '--stdin', '--input', format], {head, endless})
    t.is(r.killed, undefined, 'the child ends on its own')
    t.is(r.code, 65, r.stderr)
    t.regex(r.stderr, /^walctl: <stdin>: line 3: record is larger than a segment/)
    t.regex(r.stderr, LIMIT)
    // Stopped within a chunk of the longest line that could hold a record.
    const read = Number(/stopped reading after (\d+)/.exec(r.stderr)?.[1])
    t.true(read > MAX && read < 3 * MAX + MiB, r.stderr)
    t.regex(r.stderr, /2 record\(s\) before it were appended and synced/)
    t.true(oneLine(r.stderr), r.stderr)
    t.deepEqual(records(dir), [Buffer.from('one').toString('hex'), Buffer.from('two').toString('hex')])
  })
}

test.serial('endless raw stdin from a pipe is refused once past the limit, nothing appended', async (t) => {
  const dir = newWal()
  const before = snapshot(dir)
  const r = await run(['append', dir, '--stdin', '--input', 'raw'], {endless: 'raw bytes '})
  t.is(r.killed, undefined)
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, LIMIT)
  t.deepEqual(snapshot(dir), before)
})

test.serial('peak memory on endless input stays within tens of MiB of a one-record append', async (t) => {
  const idle = await run(['append', newWal(), 'x'], 'ignore')
  t.is(idle.code, 0, idle.stderr)
  t.truthy(idle.peakKiB)
  const cases: Array<[string, string[], number | {endless: string}]> = [
    ['--file /dev/zero', ['--file', '/dev/zero'], devZero()],
    ['--stdin --input raw </dev/zero', ['--stdin', '--input', 'raw'], devZero()],
    ['--stdin </dev/zero (one endless line)', ['--stdin'], devZero()],
    ['--stdin --input base64, an endless line', ['--stdin', '--input', 'base64'], {endless: 'QUJD'}],
  ]
  for (const [name, args, stdin] of cases) {
    const r = await run(['append', newWal(), ...args], stdin)
    if (typeof stdin === 'number') fs.closeSync(stdin)
    t.is(r.code, 65, `${name}: ${r.stderr}`)
    t.truthy(r.peakKiB, name)
    // The old code read the whole input first: gigabytes, or killed by the kernel.
    t.true(r.peakKiB! - idle.peakKiB! < 48 * 1024, `${name}: peak ${r.peakKiB} KiB against ${idle.peakKiB} KiB`)
  }
})

test.serial('a regular file larger than the limit is refused unread, with its size', async (t) => {
  const dir = newWal()
  const big = path.join(tempDir(), 'sparse.bin')
  fs.writeFileSync(big, '')
  fs.truncateSync(big, 4 * 1024 * MiB)
  const before = snapshot(dir)
  const r = await run(['append', dir, 'first', '--file', big], 'ignore')
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, new RegExp(`sparse\\.bin: record of ${4 * 1024 * MiB} bytes is ${LIMIT.source}; nothing was appended`))
  t.true(oneLine(r.stderr), r.stderr)
  t.deepEqual(snapshot(dir), before)
})

test.serial('a 10 MB base64 line past the limit: exit 65 naming the line, not 70', async (t) => {
  const dir = newWal()
  const line = Buffer.from(Buffer.alloc(7_500_000, 0x5a).toString('base64') + '\n')
  const r = await run(['append', dir, '--stdin', '--input', 'base64'], line)
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, /<stdin>: line 1: record is larger than a segment/)
  t.regex(r.stderr, LIMIT)
  t.notRegex(r.stderr, /internal error|call stack/)
})

test.serial('a 10 MB base64 record within a 16 MiB segment decodes and round-trips', async (t) => {
  const dir = newWal(16 * MiB)
  const payload = Buffer.alloc(7_500_000)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff
  const r = await run(['append', dir, '--stdin', '--input', 'base64'], Buffer.from(`${payload.toString('base64')}\r\n`))
  t.is(r.code, 0, r.stderr)
  t.deepEqual(records(dir), [payload.toString('hex')])
})

test.serial('10 MB of hex with a bad last digit names its line and column', async (t) => {
  const dir = newWal(16 * MiB)
  const r = await run(['append', dir, '--stdin', '--input', 'hex'], Buffer.from(`00\n${'ab'.repeat(5_000_000)}g\n`))
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, /<stdin>: line 2: not hex: 'g' at column 10000001; 1 record\(s\) before it were appended/)
  t.deepEqual(records(dir), ['00'])
})

test.serial('bad hex and base64 name the line, the column and what is wrong; nothing appended', async (t) => {
  const dir = newWal()
  const before = snapshot(dir)
  const cases: Array<[string, string, RegExp]> = [
    ['hex', 'zz\n', /<stdin>: line 1: not hex: 'z' at column 1$/],
    ['hex', '\n', /line 1: empty line/],
    ['hex', '  0a1\n', /line 1: not hex: odd number of digits \(3\)$/],
    ['hex', 'ab cd\n', /line 1: not hex: byte 0x20 at column 3$/],
    ['base64', 'QU$D\n', /<stdin>: line 1: not base64: '\$' at column 3$/],
    ['base64', 'QQ==QUJD\n', /line 1: not base64: '=' before the end of the line at column 3$/],
    ['base64', 'QUJDR\n', /line 1: not base64: 5 characters, not a multiple of 4/],
    ['base64', 'Q===\n', /line 1: not base64: '=' before the end of the line at column 2$/],
  ]
  for (const [format, input, want] of cases) {
    const r = await run(['append', dir, '--stdin', '--input', format], Buffer.from(input))
    t.is(r.code, 65, `${format} ${JSON.stringify(input)}: ${r.stderr}`)
    t.regex(r.stderr.trim(), want)
    t.true(oneLine(r.stderr), r.stderr)
  }
  t.deepEqual(snapshot(dir), before)
})

test.serial('a FIFO with no writer given to --file does not hang: it reads as empty, exit 65, nothing appended', async (t) => {
  const dir = newWal()
  const fifo = path.join(tempDir(), 'fifo')
  t.is(spawnSync('mkfifo', [fifo]).status, 0)
  const before = snapshot(dir)
  const r = await run(['append', dir, '--file', fifo], 'ignore')
  t.is(r.killed, undefined)
  t.is(r.code, 65, r.stderr)
  t.regex(r.stderr, /fifo: file is empty \(a FIFO with no writer reads as empty\)/)
  t.deepEqual(snapshot(dir), before)
})

test.serial('--file reads a pipe: process substitution is one record; a long pipe stops at the limit', async (t) => {
  const dir = newWal()
  const sub = await bash(`walctl append "${dir}" --file <(printf 'from '; sleep 0.3; printf 'a pipe')`)
  t.is(sub.killed, undefined)
  t.is(sub.code, 0, sub.stderr)
  t.deepEqual(records(dir), [Buffer.from('from a pipe').toString('hex')])
  const before = snapshot(dir)
  // A real pipe (a spawned child's stdin is a socket); bounded, so that a walctl reading it whole could not take the machine.
  const yes = await bash(`yes | head -c 64M | walctl append "${dir}" --file /dev/stdin`)
  t.is(yes.killed, undefined)
  t.is(yes.code, 65, yes.stderr)
  t.regex(yes.stderr, new RegExp(`/dev/stdin: record is ${LIMIT.source}: stopped reading after ${MAX + 1} bytes`))
  t.deepEqual(snapshot(dir), before)
})

test.serial('--file of a directory: exit 66 in one line, nothing appended', async (t) => {
  const dir = newWal()
  const before = snapshot(dir)
  const other = tempDir()
  const r = await run(['append', dir, 'x', '--file', other], 'ignore')
  t.is(r.code, 66, r.stderr)
  t.regex(r.stderr, /: is a directory, expected a file/)
  t.true(oneLine(r.stderr), r.stderr)
  t.deepEqual(snapshot(dir), before)
})

test.serial('the linear decoders accept exactly what the former patterns accepted, and decode as Buffer does', (t) => {
  // The patterns are fine on short lines (they failed on long ones): an oracle for acceptance.
  const hexPattern = /^(?:[0-9a-fA-F]{2})*$/
  const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
  const alphabet = 'aF09+/=zZ \t'
  let seed = 11
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed % n
  }
  let accepted = 0
  for (let i = 0; i < 20_000; i++) {
    const text = Array.from({length: random(13)}, () => alphabet[random(alphabet.length)]).join('')
    const line = Buffer.from(text, 'latin1')
    const [start, end] = trimBlanks(line, 0, line.length)
    const trimmed = text.trim()
    t.is(line.toString('latin1', start, end), trimmed)
    if (trimmed.length === 0) continue
    for (const [decode, pattern, encoding] of [
      [decodeHex, hexPattern, 'hex'],
      [decodeBase64, base64Pattern, 'base64'],
    ] as const) {
      let got: Buffer | undefined
      try {
        got = decode(line, start, end, 0)
      } catch (error) {
        t.true(error instanceof DecodeError)
      }
      t.is(got !== undefined, pattern.test(trimmed), `${encoding} ${JSON.stringify(text)}`)
      if (got) {
        accepted++
        t.deepEqual(got, Buffer.from(trimmed, encoding))
      }
    }
  }
  t.true(accepted > 500)
})
