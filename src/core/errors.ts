// One error type for everything walctl refuses or fails at. It carries the exit
// code (sysexits-style) and, where they apply, the file, segment and offset, so
// that a command can render one line and a script can branch on the code.
import {escapeName} from './fs/quote.js'

export const ExitCode = {
  OK: 0,
  REPAIRABLE: 1,
  /** Damaged, or an operation refused because it would lose data. */
  DAMAGED: 2,
  USAGE: 64,
  DATA: 65,
  NO_INPUT: 66,
  CANT_CREATE: 73,
  IO: 74,
  LOCKED: 75,
  /** 128 + the signal: a writer stopped at a safe point on SIGHUP, SIGINT or SIGTERM (src/core/interrupt.ts). */
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface WalErrorOptions {
  file?: string
  segment?: number
  offset?: number
  cause?: unknown
}

export class WalError extends Error {
  readonly exitCode: number
  /** The message without the file and offset in front, to build the same error again elsewhere. */
  readonly reason: string
  readonly file?: string
  readonly segment?: number
  readonly offset?: number

  constructor(exitCode: number, reason: string, options: WalErrorOptions = {}) {
    super(composeMessage(reason, options), options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'WalError'
    this.exitCode = exitCode
    this.reason = reason
    this.file = options.file
    this.segment = options.segment
    this.offset = options.offset
  }
}

// Every diagnostic passes here: a file name (or a name quoted in the reason)
// holding a newline or a terminal escape must not break the one-line promise.
function composeMessage(reason: string, {file, offset}: WalErrorOptions): string {
  if (file === undefined) return escapeName(reason)
  return escapeName(offset === undefined ? `${file}: ${reason}` : `${file}: offset ${offset}: ${reason}`)
}

/** A corruption found at a known place, as Prometheus' CorruptionErr. */
export class CorruptionError extends WalError {
  constructor(reason: string, options: WalErrorOptions & {file: string; offset: number}) {
    super(ExitCode.DATA, reason, options)
    this.name = 'CorruptionError'
  }
}

/** Turns a Node fs error into a WalError naming the file and what was being done. */
export function fsError(err: unknown, file: string, action: string, fallback: number = ExitCode.IO): WalError {
  if (err instanceof WalError) return err
  const e = err as NodeJS.ErrnoException
  const code = e?.code
  // What could not be found or opened is missing input when reading, and a failed create when creating.
  const missing = fallback === ExitCode.CANT_CREATE ? ExitCode.CANT_CREATE : ExitCode.NO_INPUT
  let exit = fallback
  let reason: string
  switch (code) {
    case 'ENOENT':
      exit = missing
      reason = 'no such file or directory'
      break
    case 'EACCES':
    case 'EPERM':
      exit = missing
      reason = 'permission denied'
      break
    case 'ENOTDIR':
      exit = missing
      reason = 'not a directory'
      break
    case 'EISDIR':
      exit = missing
      reason = 'is a directory, expected a file'
      break
    case 'ENOSPC':
      reason = 'no space left on device'
      break
    case 'EROFS':
      exit = ExitCode.CANT_CREATE
      reason = 'read-only file system'
      break
    default: {
      // Node's messages already start with the code ("EIO: i/o error, read"): say it once.
      const message = e?.message ?? String(err)
      reason = code && !message.startsWith(`${code}:`) ? `${code}: ${message}` : message
    }
  }
  return new WalError(exit, `cannot ${action}: ${reason}`, {file, cause: err})
}
