// The writer's helper threads: one per lane for the whole process, each
// started on first use and never ended (unref'd, none keeps the process
// alive). A lane's thread runs plain CommonJS given as text (eval), so that it
// loads nothing but what that text requires: no TypeScript loader, no module
// graph. Jobs are driven through shared memory (Atomics), since the append
// loop is synchronous and never gives the event loop a turn; slot 0 of a
// job's state says how it stands.
import {Worker} from 'node:worker_threads'

export const IDLE = 0
export const BUSY = 1
export const DONE = 2
export const FAILED = 3
/** The slot of a job's state that holds IDLE, BUSY, DONE or FAILED. */
export const STATE = 0

const threads = new Map<string, Worker>()
/** States of the jobs given to a thread, failed at once if it dies. */
const pending = new Map<Int32Array, Worker>()

/** The thread of `lane`, running `code`. */
function sharedThread(lane: string, code: string): Worker {
  const running = threads.get(lane)
  if (running) return running
  const worker = new Worker(code, {eval: true, execArgv: [], resourceLimits: {maxOldGenerationSizeMb: 16}})
  worker.unref()
  const fail = (): void => {
    if (threads.get(lane) === worker) threads.delete(lane)
    for (const [st, w] of pending) {
      if (w !== worker) continue
      if (Atomics.load(st, STATE) === BUSY) {
        Atomics.store(st, STATE, FAILED)
        Atomics.notify(st, STATE)
      }
      pending.delete(st)
    }
  }
  worker.on('error', fail)
  worker.on('exit', fail)
  threads.set(lane, worker)
  return worker
}

/** Gives a job to its lane's thread: `state` is failed should the thread die before the job ends. */
export function post(lane: string, code: string, state: Int32Array, message: object): void {
  const worker = sharedThread(lane, code)
  Atomics.store(state, STATE, BUSY)
  pending.set(state, worker)
  try {
    worker.postMessage({...message, state})
  } catch (error) {
    pending.delete(state)
    throw error
  }
}

/** The job is over, as far as its thread's death goes. */
export function settled(state: Int32Array): void {
  pending.delete(state)
}
