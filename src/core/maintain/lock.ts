/**
 * The writer lock of a WAL directory: one walctl writer at a time.
 *
 * API (the caller resolves the WAL directory first, e.g. with `resolveWalDir`):
 *
 *   const lock = await acquireWriterLock(dir, {command: 'walctl recover', waitMs: 0})
 *   if (lock.takenOver) process.stderr.write(`walctl: ${describeTakeover(lock.takenOver)}\n`)
 *   try { ...change the WAL... } finally { lock.release() }
 *
 * - `acquireWriterLock(dir, {command, waitMs})` takes the lock, polling for up to
 *   `waitMs` milliseconds while another live writer holds it, then throws a
 *   `LockedError` (a `WalError`, exit 75) naming the holder's pid, host,
 *   command and since when. `tryAcquireWriterLock` is the same without waiting,
 *   synchronous.
 * - A lock left by a process that is gone (same host, and its pid no longer
 *   runs, is a zombie, belongs to a process started after the lock was taken,
 *   or the machine has rebooted since) is taken over: the returned lock's
 *   `takenOver` says whose it was and why it was judged dead. Callers say so.
 *   A lock held from another host is never taken over (walctl cannot see its
 *   processes); the error says which file to remove once that writer is known
 *   to be gone.
 * - `release()` is synchronous and idempotent; it also runs on process exit.
 *   Locks are not re-entrant: a second acquire in the same process is refused
 *   like any other live holder.
 * - `readLockHolder(dir)` reports the current holder (or undefined) without
 *   taking anything.
 * - Commands take it through src/cli/lock.ts: `static flags = {wait: waitFlag}`
 *   and `const lock = await lockWal(resolveWalDir(args.dir), flags.wait)`,
 *   which also prints the takeover note on stderr.
 * - Other failures are `WalError`s naming the lock file: 66 when the directory
 *   is missing, 73 when the lock cannot be created (permissions, read-only).
 *
 * On disk, in the WAL directory (both are listed as walctl's own entries, not
 * strays, by directory.ts):
 *   .walctl.lock       the lock itself: a small JSON file naming its holder
 *                      (pid, host, start time, the subcommand such as
 *                      `walctl append`, never its arguments, which may hold
 *                      data); mode 0600, or 0640 and the WAL directory's group
 *                      when that is not walctl's own. It exists exactly while
 *                      a writer holds the lock. It is created exclusively and
 *                      never through a link: a link, FIFO or anything but a
 *                      regular file under its name is refused (exit 73) and
 *                      left as it is.
 *   .walctl.lock.lock  a mutex (a directory made with mkdir, mode 0700), held
 *                      for a few milliseconds around every decision on
 *                      .walctl.lock (create, take over), so that two
 *                      processes can never both take over the same dead lock.
 *                      Held so briefly, it is safe to break by age (5 s): it
 *                      is renamed to a unique name, then removed.
 *
 * Only walctl honours this lock: Shardex itself takes none.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {applyOwnership} from '../fs/owner.js'
import {escapeName} from '../fs/quote.js'
import {createExclusive, lstatOrUndefined, notRegular, openForReading, unlinkRegular} from '../fs/safe-open.js'
import {readAt} from '../fs/files.js'

export const LOCK_FILE = '.walctl.lock'
export const LOCK_MUTEX = '.walctl.lock.lock'
/** The mutex is held for milliseconds; one older than this was left by a crash. */
const MUTEX_STALE_MS = 5000
/** How long to try for the mutex before giving up (it is broken after MUTEX_STALE_MS). */
const MUTEX_PATIENCE_MS = MUTEX_STALE_MS * 3
/** A lock file is a few hundred bytes; more is not ours and is not read. */
const MAX_LOCK_BYTES = 4096

/** Who holds a lock: the content of `.walctl.lock`. */
export interface LockHolder {
  pid: number
  host: string
  /** What the holder is doing: the subcommand only, e.g. `walctl append`. */
  command: string
  /** ISO 8601 time the lock was taken. */
  since: string
  /** Unique per acquisition, so that a release never removes someone else's lock. */
  token: string
  /** Linux: the kernel's boot id when the lock was taken (a reboot ends every holder). */
  bootId?: string
  /** Linux: the holder's start time in clock ticks after boot (tells a reused pid apart). */
  startTime?: string
}

export type TakeoverReason = 'not-running' | 'zombie' | 'pid-reused' | 'rebooted' | 'unreadable'

export interface Takeover {
  /** The previous holder, or undefined when its lock file could not be read. */
  previous?: LockHolder
  reason: TakeoverReason
  file: string
}

export interface AcquireOptions {
  /** What the new holder is doing, shown to refused writers. */
  command: string
  /** Wait up to this long (milliseconds) for a live holder; 0 fails at once. */
  waitMs?: number
}

/** A refused acquire: another writer holds the lock. */
export class LockedError extends WalError {
  readonly holder?: LockHolder
  constructor(reason: string, file: string, holder?: LockHolder) {
    super(ExitCode.LOCKED, reason, {file})
    this.name = 'LockedError'
    this.holder = holder
  }
}

export class WriterLock {
  readonly dir: string
  readonly file: string
  readonly holder: LockHolder
  readonly takenOver?: Takeover
  private released = false
  private readonly onExit = (): void => this.release()

  constructor(dir: string, holder: LockHolder, takenOver?: Takeover) {
    this.dir = dir
    this.file = path.join(dir, LOCK_FILE)
    this.holder = holder
    this.takenOver = takenOver
    process.once('exit', this.onExit)
  }

  get held(): boolean {
    return !this.released
  }

  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void {
    if (this.released) return
    this.released = true
    process.removeListener('exit', this.onExit)
    // No mutex needed: nobody replaces the lock of a live holder, and we are alive.
    let current: {holder?: LockHolder; stat?: fs.Stats}
    try {
      current = readHolderFile(this.file)
    } catch {
      return // Not a regular file any more: not ours to remove.
    }
    if (current.holder?.token !== this.holder.token) return
    unlinkRegular(this.file, 'remove the writer lock', current.stat)
  }
}

/** Takes the writer lock of `dir`, waiting up to `waitMs` for a live holder. */
export async function acquireWriterLock(dir: string, options: AcquireOptions): Promise<WriterLock> {
  const waitMs = Math.max(0, options.waitMs ?? 0)
  const start = Date.now()
  let delay = 10
  for (;;) {
    const attempt = attemptOnce(dir, options.command)
    if (attempt.lock) return attempt.lock
    const left = start + waitMs - Date.now()
    if (left <= 0) throw lockedError(attempt.file, attempt.holder, waitMs)
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, delay * (0.5 + Math.random()))))
    delay = Math.min(delay * 2, 100)
  }
}

/** Takes the writer lock of `dir` or throws a `LockedError` at once. */
export function tryAcquireWriterLock(dir: string, options: AcquireOptions): WriterLock {
  const attempt = attemptOnce(dir, options.command)
  if (attempt.lock) return attempt.lock
  throw lockedError(attempt.file, attempt.holder, 0)
}

/** The current holder of `dir`'s lock, or undefined when nobody holds it. */
export function readLockHolder(dir: string): LockHolder | undefined {
  return readHolderFile(path.join(dir, LOCK_FILE)).holder
}

/**
 * What this process is, for `AcquireOptions.command`: `walctl append`, the
 * subcommand only. Arguments are never recorded: the lock is readable by the
 * WAL's group and shown in other users' messages, and arguments may be data.
 */
export function currentCommandLine(name = 'walctl'): string {
  const sub = process.argv[2]
  return sub !== undefined && /^[a-z][a-z-]{0,30}$/.test(sub) ? `${name} ${sub}` : name
}

/** One line for stderr: whose lock was taken over and why it was judged dead. */
export function describeTakeover(t: Takeover): string {
  const why: Record<TakeoverReason, string> = {
    'not-running': 'that process is no longer running',
    zombie: 'that process has exited (a zombie)',
    'pid-reused': 'that process has exited and its pid now belongs to another one',
    rebooted: 'the machine has rebooted since',
    unreadable: 'the lock file was left unreadable by a crash',
  }
  const whose = t.previous ? `left by ${describeHolder(t.previous)}` : `in ${t.file}`
  return `took over the writer lock ${whose}: ${why[t.reason]}`
}

/** `pid 123 on host h ('walctl append ./wal', since 2026-11-24T04:00:00.000Z, 3s ago)` */
export function describeHolder(h: LockHolder, now = Date.now()): string {
  const since = Date.parse(h.since)
  const ago = Number.isNaN(since) ? '' : `, ${formatAge(now - since)} ago`
  // The file may be another version's or planted: show only what a holder may say, escaped.
  const command = escapeName(h.command.split(' ').slice(0, 2).join(' ').slice(0, 40))
  return `pid ${h.pid} on host ${escapeName(h.host.slice(0, 255))} ('${command}', since ${escapeName(h.since.slice(0, 40))}${ago})`
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172_800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86_400)}d`
}

function lockedError(file: string, holder: LockHolder | undefined, waitMs: number): LockedError {
  const waited = waitMs > 0 ? ` (still held after waiting ${formatSeconds(waitMs)})` : ''
  if (!holder) return new LockedError(`the WAL is locked by another writer${waited}`, file)
  let reason = `the WAL is locked by another writer: ${describeHolder(holder)}${waited}`
  if (holder.host !== os.hostname()) {
    reason += `; that host is not this one (${os.hostname()}), so walctl cannot tell whether the writer still runs: once it is certainly gone, remove ${file}`
  }
  return new LockedError(reason, file, holder)
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`
}

interface Attempt {
  lock?: WriterLock
  holder?: LockHolder
  file: string
}

function attemptOnce(dir: string, command: string): Attempt {
  const file = path.join(dir, LOCK_FILE)
  return withMutex(dir, (): Attempt => {
    const current = readHolderFile(file)
    const mine = newHolder(command)
    if (!current.exists) {
      writeHolder(dir, file, mine)
      return {lock: new WriterLock(dir, mine), file}
    }
    const reason = current.holder ? deadReason(current.holder) : 'unreadable'
    if (reason === undefined) return {holder: current.holder, file}
    // The dead holder's file goes (checked to be that same regular file); ours is created exclusively.
    // A holder releases without the mutex: one that released and exited since its file was read left
    // nothing to take over, and this is an ordinary acquisition.
    const tookOver = unlinkRegular(file, 'take over the writer lock', current.stat)
    writeHolder(dir, file, mine)
    return {lock: new WriterLock(dir, mine, tookOver ? {previous: current.holder, reason, file} : undefined), file}
  })
}

function newHolder(command: string): LockHolder {
  const holder: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    command,
    since: new Date().toISOString(),
    token: crypto.randomBytes(12).toString('hex'),
  }
  const bootId = currentBootId()
  const startTime = procStat(process.pid)?.startTime
  if (bootId) holder.bootId = bootId
  if (startTime) holder.startTime = startTime
  return holder
}

/** Creates the lock file exclusively, 0600; 0640 with the WAL directory's group when that is not walctl's own. */
function writeHolder(dir: string, file: string, holder: LockHolder): void {
  const fd = createExclusive(file, 0o600, 'create the writer lock')
  try {
    const group = fs.statSync(dir).gid
    if (typeof process.getegid === 'function' && group !== process.getegid()) {
      const st = fs.fstatSync(fd)
      if (applyOwnership(fd, file, {uid: st.uid, gid: group, mode: 0o640}).length > 0) fs.fchmodSync(fd, 0o600)
    }
    fs.writeSync(fd, JSON.stringify(holder) + '\n')
  } catch (error) {
    fs.closeSync(fd)
    try {
      fs.unlinkSync(file)
    } catch {
      // Created by us a moment ago; if it stays, it is unreadable and taken over.
    }
    throw fsError(error, file, 'create the writer lock', ExitCode.CANT_CREATE)
  }
  fs.closeSync(fd)
}

function readHolderFile(file: string): {exists: boolean; holder?: LockHolder; stat?: fs.Stats} {
  let text: string
  let stat: fs.Stats
  let fd: number
  try {
    fd = openForReading(file, 'use the writer lock')
  } catch (error) {
    if (error instanceof WalError) {
      if (!lstatOrUndefined(file)) return {exists: false}
      throw error
    }
    throw fsError(error, file, 'read the writer lock')
  }
  try {
    stat = fs.fstatSync(fd)
    text = readAt(fd, 0, MAX_LOCK_BYTES).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string') {
      return {exists: true, stat, holder: {...h, command: typeof h.command === 'string' ? h.command : '?', since: typeof h.since === 'string' ? h.since : '?'} as LockHolder}
    }
  } catch {
    // Unreadable: reported as such below.
  }
  return {exists: true, stat}
}

/** Why a holder is certainly gone, or undefined when it may still run. */
function deadReason(h: LockHolder): TakeoverReason | undefined {
  if (h.host !== os.hostname()) return undefined
  const bootId = currentBootId()
  if (h.bootId && bootId && h.bootId !== bootId) return 'rebooted'
  try {
    process.kill(h.pid, 0)
  } catch (error) {
    // EPERM: the pid runs, under another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'not-running'
    return undefined
  }
  const stat = procStat(h.pid)
  if (stat?.state === 'Z' || stat?.state === 'X') return 'zombie'
  if (h.startTime && stat?.startTime && stat.startTime !== h.startTime) return 'pid-reused'
  return undefined
}

let bootIdCache: string | null | undefined
function currentBootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null
    } catch {
      bootIdCache = null
    }
  }
  return bootIdCache ?? undefined
}

/** State and start time of a process from Linux's /proc; undefined elsewhere. */
function procStat(pid: number): {state: string; startTime: string} | undefined {
  let text: string
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return fields.length > 19 ? {state: fields[0], startTime: fields[19]} : undefined
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Runs `fn` holding the short-lived mutex beside the lock file. */
function withMutex<T>(dir: string, fn: () => T): T {
  const mutex = path.join(dir, LOCK_MUTEX)
  const start = Date.now()
  for (;;) {
    if (tryMutex(mutex)) break
    if (Date.now() - start > MUTEX_PATIENCE_MS) {
      throw new LockedError(`the writer lock's mutex has been held for over ${MUTEX_PATIENCE_MS / 1000}s; if no walctl runs here, remove ${mutex}`, mutex)
    }
    Atomics.wait(sleeper, 0, 0, 2 + Math.random() * 8)
  }
  try {
    return fn()
  } finally {
    try {
      fs.rmdirSync(mutex)
    } catch {
      // Already gone (broken as stale by another process): nothing of ours to remove.
    }
  }
}

/** One try at the mutex: mkdir; an existing one older than MUTEX_STALE_MS is broken. */
function tryMutex(mutex: string): boolean {
  try {
    fs.mkdirSync(mutex, {mode: 0o700})
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EEXIST') throw fsError(error, mutex, 'create the writer lock', code === 'ENOENT' ? ExitCode.NO_INPUT : ExitCode.CANT_CREATE)
  }
  const st = lstatOrUndefined(mutex)
  if (!st) return false
  if (!st.isDirectory()) throw notRegular(mutex, st, 'use the writer lock\'s mutex', true)
  if (Date.now() - st.mtimeMs <= MUTEX_STALE_MS) return false
  // Renamed first, so that two processes breaking it at once cannot remove a fresh one made meanwhile.
  const aside = `${mutex}.walctl-${process.pid}-${crypto.randomBytes(8).toString('hex')}.stale`
  try {
    fs.renameSync(mutex, aside)
  } catch {
    return false // Someone else broke it first.
  }
  try {
    fs.rmdirSync(aside)
  } catch {
    // Not empty: not a mutex of ours after all; it stays, as a stray.
  }
  return false
}
