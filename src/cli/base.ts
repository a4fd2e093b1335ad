// What every walctl command shares: one-line errors with documented exit codes
// (kept under --json), and JSON or human output chosen in one place.
import {Command, Errors} from '@oclif/core'
import {ExitCode, WalError} from '../core/errors.js'
import {installInterruptHandlers, pendingInterrupt, receiveSignals, signalExitCode} from '../core/interrupt.js'
import {colorFlag, paint} from './color.js'
import {isUsageError, UsageContext, usageMessage} from './usage-error.js'

export interface ErrorJson {
  error: {
    message: string
    exitCode: number
    file?: string
    segment?: number
    offset?: number
  }
}

/** The exit code and one-line message an error stands for; `usage` names the command for usage errors. */
export function describeError(err: unknown, usage?: UsageContext): {exitCode: number; message: string; wal?: WalError} {
  if (err instanceof WalError) return {exitCode: err.exitCode, message: err.message, wal: err}
  const e = err as Error & {oclif?: {exit?: number}; exitCode?: number}
  const firstLine = (e?.message ?? String(err)).split('\n').map((l) => l.trim()).filter(Boolean)
  if (isUsageError(err)) return {exitCode: ExitCode.USAGE, message: usageMessage(e, usage)}
  if (e instanceof Errors.CLIError) {
    const text = e.message ?? ''
    return {exitCode: e.oclif?.exit ?? ExitCode.USAGE, message: /See more help with --help/.test(text) ? usageMessage(e, usage) : firstLine.join('; ')}
  }
  return {exitCode: e?.exitCode ?? 70, message: `internal error: ${firstLine.join('; ')}`}
}

/** Commands that change a WAL stop at a safe point on SIGINT, SIGTERM and SIGHUP; readers keep the default action (killed at once). */
const WRITERS: ReadonlySet<string> = new Set(['append', 'rotate', 'recover', 'gc', 'init', 'archive', 'restore'])

export abstract class WalCommand extends Command {
  static enableJsonFlag = true
  static baseFlags = {color: colorFlag}

  protected async init(): Promise<void> {
    if (WRITERS.has(this.id ?? '')) installInterruptHandlers()
    await super.init()
  }

  /**
   * A signal that arrived while the command finished its work anyway still
   * sets the exit code (128 + n): init and rotate write a whole segment
   * without a turn of the event loop, so the loop polls once first.
   */
  protected async finally(err: Error | undefined): Promise<unknown> {
    if (WRITERS.has(this.id ?? '')) await receiveSignals()
    const signal = pendingInterrupt()
    if (signal && !err) {
      process.exitCode = signalExitCode(signal)
      process.stderr.write(`walctl: interrupted by ${signal}; it arrived as the command finished its work, which is complete\n`)
    }
    return super.finally(err)
  }

  /** Writes a diagnostic line to stderr, never under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  /** Throws a WalError carrying `exitCode`, so the code survives --json. */
  protected fail(exitCode: number, message: string, where: {file?: string; offset?: number; segment?: number} = {}): never {
    throw new WalError(exitCode, message, where)
  }

  /** The command as usage errors name it, with the flags and arguments it takes. */
  protected usageContext(): UsageContext {
    const ctor = this.ctor as typeof WalCommand
    const json = Boolean(ctor.enableJsonFlag)
    const flags = [...Object.keys({...ctor.baseFlags, ...ctor.flags}), 'help', ...(json ? ['json'] : [])]
    const args = Object.entries(ctor.args ?? {}).map(([key, arg]) => (arg.name ?? key).toUpperCase())
    return {command: `${this.config.bin} ${this.id ?? ''}`.trim(), flags: [...new Set(flags)], args, json}
  }

  async catch(err: Error & {exitCode?: number}): Promise<never | void> {
    if (err instanceof Errors.ExitError) throw err
    // A failed parse is reported below as walctl's usage error; oclif would add a development-mode warning that the command never parsed.
    if (isUsageError(err)) this.parsed = true
    const {exitCode, message, wal} = describeError(err, this.usageContext())
    process.exitCode = exitCode
    if (this.jsonEnabled()) {
      const body: ErrorJson = {error: {message, exitCode}}
      if (wal?.file !== undefined) body.error.file = wal.file
      if (wal?.segment !== undefined) body.error.segment = wal.segment
      if (wal?.offset !== undefined) body.error.offset = wal.offset
      this.logJson(body)
      return
    }
    process.stderr.write(`${paint('stderr').red('walctl:')} ${message}\n`)
    if (process.env.WALCTL_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
    // An ExitError is not printed again by oclif's handler; it only sets the code.
    this.exit(exitCode)
  }
}
