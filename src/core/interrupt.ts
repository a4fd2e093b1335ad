// SIGINT, SIGTERM and SIGHUP as a request to stop at the next safe point.
//
// Node runs a JavaScript signal handler only when the event loop turns, so a
// command doing long synchronous work must yield at its safe points (between
// batches, segments, recover's steps, gc's removals) with `await safePoint()`,
// which throws an InterruptedError once a signal has arrived. The error
// unwinds through the command's `finally` blocks (locks released, batches
// synced) and base.ts renders it as one line with exit 128 + the signal.
//
// A command waiting on something that never comes (stdin, a lock) races its
// wait with `interruption()`. Should nothing take the signal up within
// FALLBACK_MS of the loop turning, the process exits 128 + n anyway: every
// turn of the loop is between two synchronous steps, so what is on disk is
// what recover's ordering and the group commit already guarantee; the lock is
// released by its 'exit' hook. A second signal exits at once.
import {constants} from 'node:os'
import {WalError} from './errors.js'

export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number]

const FALLBACK_MS = 1000

export function signalExitCode(signal: InterruptSignal): number {
  return 128 + constants.signals[signal]
}

export class InterruptedError extends WalError {
  readonly signal: InterruptSignal

  constructor(signal: InterruptSignal, what = 'stopped at a safe point; everything acknowledged is durable and the lock is released') {
    super(signalExitCode(signal), `interrupted by ${signal}; ${what}`)
    this.name = 'InterruptedError'
    this.signal = signal
  }
}

let pending: InterruptSignal | undefined
let taken = false
let installed = false
let fallback: NodeJS.Timeout | undefined
const waiters = new Set<(signal: InterruptSignal) => void>()

function onSignal(signal: InterruptSignal): void {
  if (pending !== undefined) {
    // A second signal: the operator means it.
    process.stderr.write(`walctl: interrupted by ${signal} again; exiting now\n`)
    process.exit(signalExitCode(signal))
  }
  pending = signal
  for (const wake of waiters) wake(signal)
  fallback = setTimeout(() => {
    if (taken) return
    process.stderr.write(`walctl: interrupted by ${signal}; stopped between two steps, nothing acknowledged is lost\n`)
    process.exit(signalExitCode(signal))
  }, FALLBACK_MS)
  fallback.unref()
}

/** Installs the handlers (once per process). Commands that write call it; readers may keep the default action. */
export function installInterruptHandlers(): void {
  if (installed) return
  installed = true
  for (const signal of INTERRUPT_SIGNALS) process.on(signal, onSignal)
}

/** The signal received and not yet acted on, if any. */
export function pendingInterrupt(): InterruptSignal | undefined {
  return taken ? undefined : pending
}

/** Throws an InterruptedError if a signal has arrived. Cheap: call it between steps. */
export function checkInterrupt(what?: string): void {
  if (pending === undefined) return
  taken = true
  if (fallback) clearTimeout(fallback)
  throw new InterruptedError(pending, what)
}

/**
 * Lets the event loop poll, so that the handler of a signal that came during
 * synchronous work runs. One immediate is not enough: queued from an I/O
 * callback it runs in the same turn's check phase, before any further poll;
 * the second runs a turn later, with a poll between the two.
 */
export async function receiveSignals(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
  await new Promise<void>((resolve) => setImmediate(resolve))
}

/** Lets the event loop poll (receiveSignals), then checks. */
export async function safePoint(what?: string): Promise<void> {
  await receiveSignals()
  checkInterrupt(what)
}

/** A promise rejected with an InterruptedError when a signal arrives: race a long wait with it. Call `cancel` when done. */
export function interruption(what?: string): {promise: Promise<never>; cancel: () => void} {
  let wake: ((signal: InterruptSignal) => void) | undefined
  const promise = new Promise<never>((_resolve, reject) => {
    wake = () => {
      try {
        checkInterrupt(what)
      } catch (error) {
        reject(error)
      }
    }
    waiters.add(wake)
    if (pending !== undefined) wake(pending)
  })
  // A rejection nobody awaits (the wait won the race) is not an unhandled one.
  promise.catch(() => undefined)
  return {promise, cancel: () => waiters.delete(wake!)}
}
