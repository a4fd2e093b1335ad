// Runs walctl with a real terminal: util-linux `script` gives the child a
// pseudo-terminal for stdin, stdout and stderr (all three land in one stream).
import {spawnSync} from 'node:child_process'
import {BIN} from './cli.js'

export const HAVE_SCRIPT = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0

export interface TtyResult {
  code: number
  /** stdout and stderr as the terminal showed them, CRLF turned back into LF. */
  output: string
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

/** `walctl ...args` at a terminal `columns` wide. Colour variables are cleared unless given in `env`. */
export function walctlTty(args: string[], options: {env?: NodeJS.ProcessEnv; columns?: number} = {}): TtyResult {
  return runTty([process.execPath, BIN, ...args], options)
}

/** Any command at a terminal `columns` wide, as walctlTty. */
export function runTty(argv: string[], options: {env?: NodeJS.ProcessEnv; columns?: number; cwd?: string} = {}): TtyResult {
  const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color'}
  delete env.NO_COLOR
  delete env.FORCE_COLOR
  Object.assign(env, options.env)
  const command = `stty cols ${options.columns ?? 100} 2>/dev/null; exec ${argv.map(quote).join(' ')}`
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {env, cwd: options.cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28})
  if (r.error) throw r.error
  return {code: r.status ?? -1, output: r.stdout.replace(/\r\n/g, '\n')}
}
