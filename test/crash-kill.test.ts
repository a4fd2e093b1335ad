// Process kill: a real `walctl append DIR --stdin` child is SIGKILLed at a
// random moment while records stream in; recover then runs (taking over the
// dead writer's lock), and every position the child printed must be there with
// its payload, in order, and the WAL must hold nothing but a prefix of what
// was sent.
import {spawn} from 'node:child_process'
import * as path from 'node:path'
import test from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {recoverWal} from '../src/core/repair/recover.js'
import {verifyWal} from '../src/core/read/verify.js'
import {BIN, walctl} from './helpers/cli.js'
import {rng32, shardexOpen} from './helpers/corrupt.js'
import {tempDir} from './helpers/fixtures.js'

const TRIALS = 54
const PARALLEL = 3

interface KillTrial {
  trial: number
  sent: string[]
  printed: string[]
  exit: number | null
  signal: NodeJS.Signals | null
}

/** Streams lines into a real append and kills it once `target` positions are printed (or after `delayMs` when target is 0). */
function killTrial(trial: number, dir: string): Promise<KillTrial> {
  const rand = rng32(7919 * trial + 1)
  const target = rand() < 0.2 ? 0 : 1 + Math.floor(rand() * 60)
  const delayMs = Math.floor(rand() * 600)
  const batch = 1 + Math.floor(rand() * 16)
  const child = spawn(process.execPath, [BIN, 'append', dir, '--stdin', '--batch-records', String(batch), '--batch-ms', String(Math.floor(rand() * 5))], {
    env: {...process.env, NO_COLOR: '1'},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const sent: string[] = []
  let out = ''
  let killed = false
  const kill = (): void => {
    if (!killed) {
      killed = true
      child.kill('SIGKILL')
    }
  }
  child.stdin.on('error', () => {})
  const feeder = setInterval(() => {
    if (killed || sent.length >= 20_000) return
    let chunk = ''
    const n = 1 + Math.floor(rand() * 40)
    for (let i = 0; i < n; i++) {
      // Lengths up to ~700 bytes so that rotations happen in 4 KiB segments.
      const line = `k${trial}-${sent.length}-${'x'.repeat(Math.floor(rand() * 700))}`
      sent.push(line)
      chunk += line + '\n'
    }
    child.stdin.write(chunk)
  }, 2)
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8')
    if (target > 0 && out.split('\n').length - 1 >= target) setTimeout(kill, Math.floor(rand() * 5))
  })
  const timer = target === 0 ? setTimeout(kill, delayMs) : setTimeout(kill, 5000)
  return new Promise((resolve) => {
    child.on('close', (exit, signal) => {
      clearInterval(feeder)
      clearTimeout(timer)
      // Only whole lines were acknowledged.
      const printed = out.split('\n').slice(0, -1)
      resolve({trial, sent, printed, exit, signal})
    })
  })
}

test(`${TRIALS} SIGKILLs of a real append --stdin: every printed position survives recover with its payload, in order, and nothing else`, async (t) => {
  const outcomes: KillTrial[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < TRIALS) {
      const trial = next++
      const dir = path.join(tempDir('walctl-kill-'), 'wal')
      WalManager.init(dir, {segmentSize: 4096}).close()
      const o = await killTrial(trial, dir)
      outcomes.push(o)
      const before = verifyWal(dir, {settleTries: 0})
      t.not(before.verdict, 'damaged', `trial ${trial}: a killed process leaves at most a torn tail`)
      // Every tenth trial recovers through the CLI, the rest through the core.
      if (trial % 10 === 0) {
        const r = walctl(['recover', dir, '--json'])
        t.is(r.code, 0, `trial ${trial}: ${r.stderr}`)
      } else {
        t.is(recoverWal(dir).exitCode, 0, `trial ${trial}`)
      }
      t.is(verifyWal(dir, {settleTries: 0}).verdict, 'clean', `trial ${trial}`)
      const open = shardexOpen(dir)
      t.deepEqual(open.errors, [], `trial ${trial}`)
      const found = open.records.map((b) => b.toString('utf8'))
      t.deepEqual(found, o.sent.slice(0, found.length), `trial ${trial}: the WAL holds a prefix of what was sent, in order`)
      t.true(found.length >= o.printed.length, `trial ${trial}: ${found.length} records, ${o.printed.length} printed`)
      t.deepEqual(open.positions.slice(0, o.printed.length), o.printed, `trial ${trial}: printed positions are where their records are`)
    }
  }
  await Promise.all(Array.from({length: PARALLEL}, worker))
  const killed = outcomes.filter((o) => o.signal === 'SIGKILL')
  const printed = outcomes.reduce((n, o) => n + o.printed.length, 0)
  t.log(`${outcomes.length} trials, ${killed.length} killed, ${printed} positions printed, ${outcomes.filter((o) => o.printed.length > 0).length} killed after printing`)
  t.true(killed.length >= 50)
  t.true(outcomes.filter((o) => o.printed.length > 0).length >= 25, 'most kills land while records are flowing')
})
