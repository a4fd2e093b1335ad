// The writer lock as commands take it: the --wait flag, and the note on stderr
// when a dead writer's lock is taken over.
import {Flags} from '@oclif/core'
import {ExitCode, WalError} from '../core/errors.js'
import {acquireWriterLock, currentCommandLine, describeHolder, describeTakeover, LockedError, WriterLock} from '../core/maintain/lock.js'
import {parseDuration} from '../core/format/units.js'

export const waitFlag = Flags.string({
  description: 'when another walctl writer holds the WAL\'s lock, wait up to SECONDS for it (also 500ms, 2m) instead of failing at once with exit 75',
  helpValue: 'SECONDS',
})

/** Milliseconds for a --wait value: seconds (decimals allowed) or a duration such as 2m. */
export function waitMs(text: string | undefined): number {
  if (text === undefined) return 0
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000)
  const ms = parseDuration(t)
  if (ms === undefined) throw new WalError(ExitCode.USAGE, `invalid value '${text}' for --wait: give seconds, e.g. 30, or a duration such as 500ms or 2m`)
  return ms
}

/**
 * Takes the writer lock of the WAL directory `dir` for this command. A takeover
 * of a dead writer's lock is said on stderr, under --json too (stdout stays JSON).
 */
export async function lockWal(dir: string, wait: string | undefined): Promise<WriterLock> {
  const ms = waitMs(wait)
  let lock: WriterLock
  try {
    lock = await acquireWaitingAloud(dir, ms)
  } catch (error) {
    if (error instanceof LockedError && ms === 0 && error.holder) {
      throw new LockedError(`${error.reason}; retry later, or pass --wait SECONDS to wait for it`, error.file ?? dir, error.holder)
    }
    throw error
  }
  if (lock.takenOver) process.stderr.write(`walctl: ${describeTakeover(lock.takenOver)}\n`)
  return lock
}

/** Takes the lock; when it has to wait, says once on stderr, at a terminal only, for whom. */
async function acquireWaitingAloud(dir: string, ms: number): Promise<WriterLock> {
  const command = currentCommandLine()
  if (ms === 0 || !process.stderr.isTTY) return acquireWriterLock(dir, {command, waitMs: ms})
  const started = Date.now()
  try {
    return await acquireWriterLock(dir, {command, waitMs: 0})
  } catch (error) {
    if (!(error instanceof LockedError)) throw error
    const whom = error.holder ? describeHolder(error.holder) : 'another writer'
    process.stderr.write(`walctl: waiting up to ${Number((ms / 1000).toFixed(3))}s for the writer lock held by ${whom}\n`)
  }
  return acquireWriterLock(dir, {command, waitMs: Math.max(0, ms - (Date.now() - started))})
}
