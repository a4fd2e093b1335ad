// Runs the real CLI (bin/run.js, the built dist/) in a child process.
import {spawn, spawnSync} from 'node:child_process'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = path.join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** stdout as raw bytes, for binary output. */
  out: Buffer
}

export interface CliOptions {
  input?: string | Buffer
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
  /** Run the child as this user (only when the tests run as root). */
  uid?: number
  /** A script node loads before walctl (--require): a probe that watches the process from inside. */
  preload?: string
}

function clean(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Tests must not depend on the developer's terminal or colour settings.
  const base = {...process.env, NO_COLOR: '1'}
  delete base.FORCE_COLOR
  return {...base, ...env}
}

/** Runs `walctl ...args` synchronously. */
export function walctl(args: string[], options: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [...(options.preload ? ['--require', options.preload] : []), BIN, ...args], {
    input: options.input,
    env: clean(options.env),
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 1 << 30,
    ...(options.uid === undefined ? {} : {uid: options.uid, gid: options.uid}),
  })
  if (r.error) throw r.error
  return {code: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), out: r.stdout}
}

/** Runs `walctl ...args` asynchronously (for tests that run processes side by side). */
export function walctlAsync(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: clean(options.env), cwd: options.cwd})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code) => {
      const o = Buffer.concat(out)
      resolve({code: code ?? -1, stdout: o.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), out: o})
    })
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
  })
}

/** The position (`SEGMENT:OFFSET`) of every valid record `walctl dump` lists, to check what a writer acknowledged. */
export function validPositions(wal: string): Set<string> {
  const out = new Set<string>()
  for (const line of walctl(['dump', wal, '--format', 'jsonl']).stdout.split('\n').filter(Boolean)) {
    const rec = JSON.parse(line) as {valid?: boolean; segment?: number; offset?: number}
    if (rec.valid === true) out.add(`${rec.segment}:${rec.offset}`)
  }
  return out
}
