// The segment pipeline, as etcd's file_pipeline.go: while the current segment
// fills, the next one is prepared as a temporary of walctl's own, every block
// written with zeros and fsynced, by a worker thread on the other core. A
// rotation then writes the header, syncs it and moves the file into place
// (files.ts installPrepared) instead of writing the whole segment in the
// append path. The append loop is synchronous, so the worker is driven
// through shared memory (Atomics), not through the event loop.
import * as path from 'node:path'
import {Worker} from 'node:worker_threads'
import {CreateFileOptions, createTempFor, discardTemp, TempFile} from '../fs/files.js'
import {segmentFileName} from '../format/names.js'

/** Below this size a segment is quicker to write in place than to hand to a thread. */
export const PREPARE_MIN_SIZE = 1024 * 1024

const IDLE = 0
const BUSY = 1
const DONE = 2
const FAILED = 3
/** Slots of the shared state: the job's state, a request to stop early, and whether the thread took the job. */
const STATE = 0
const CANCEL = 1
const TAKEN = 2
/** A thread that has not taken its job after this long never started (no memory for it, say). */
const START_TIMEOUT_MS = 10_000
/** A thread still on its job after this long is given up on (a thread that died in it can no longer say so). */
const JOB_TIMEOUT_MS = 600_000

// Plain CommonJS run with eval, so that the thread loads nothing but node:fs
// (no TypeScript loader, no module graph). For each job, in order, it writes
// zeros from `from` to `size` a megabyte at a time, checking for a cancel
// between writes, fsyncs and says how it went in the job's shared state.
const WORKER = `
const {parentPort} = require('node:worker_threads')
const fs = require('node:fs')
const zeros = Buffer.alloc(1 << 20)
parentPort.on('message', ({fd, from, size, state: st}) => {
  Atomics.store(st, ${TAKEN}, 1)
  let result = ${DONE}
  try {
    for (let pos = from; pos < size; ) {
      if (Atomics.load(st, ${CANCEL}) === 1) { result = ${FAILED}; break }
      pos += fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - pos), pos)
    }
    if (result === ${DONE}) fs.fsyncSync(fd)
  } catch {
    result = ${FAILED}
  }
  Atomics.store(st, ${STATE}, result)
  Atomics.notify(st, ${STATE})
})
`

interface Job extends TempFile {
  id: number
}

/**
 * One thread for the whole process, started on first use and never ended
 * (unref'd, it does not keep the process alive): every WAL this process
 * writes queues its jobs there, each with its own shared state.
 */
let thread: Worker | undefined
/** States of the jobs given to the thread, failed at once if it dies. */
const pending = new Set<Int32Array>()

function sharedThread(): Worker {
  if (thread) return thread
  const worker = new Worker(WORKER, {eval: true, execArgv: [], resourceLimits: {maxOldGenerationSizeMb: 16}})
  worker.unref()
  const fail = (): void => {
    if (thread === worker) thread = undefined
    for (const st of pending) {
      if (Atomics.load(st, STATE) === BUSY) {
        Atomics.store(st, STATE, FAILED)
        Atomics.notify(st, STATE)
      }
    }
    pending.clear()
  }
  worker.on('error', fail)
  worker.on('exit', fail)
  thread = worker
  return worker
}

export class SegmentPipeline {
  private readonly state = new Int32Array(new SharedArrayBuffer(12))
  private job: Job | undefined
  /** Set once a job was abandoned: the thread may still take it and write this state, so no other job is given out. */
  private disabled = false

  constructor(private readonly dir: string, private readonly size: number) {}

  /**
   * Starts preparing segment `id` (owner and mode of `options.like`). Anything
   * that stops it here (no room for the temporary, no permission) is left for
   * the rotation, which then creates the segment in place and reports it.
   */
  prepare(id: number, options: CreateFileOptions): void {
    if (this.job || this.disabled) return
    const target = path.join(this.dir, segmentFileName(id))
    let temp: TempFile
    try {
      temp = createTempFor(target, options, this.size)
    } catch {
      return
    }
    try {
      const worker = sharedThread()
      Atomics.store(this.state, CANCEL, 0)
      Atomics.store(this.state, TAKEN, 0)
      Atomics.store(this.state, STATE, BUSY)
      this.job = {...temp, id}
      pending.add(this.state)
      worker.postMessage({fd: temp.fd, from: 0, size: this.size, state: this.state})
    } catch {
      this.job = undefined
      pending.delete(this.state)
      Atomics.store(this.state, STATE, IDLE)
      discardTemp(temp)
    }
  }

  /**
   * The prepared temporary of segment `id`, once fully written and synced
   * (waiting for the worker if it is still busy), or undefined when there is
   * none or it failed (then it is removed, and the caller creates the segment
   * itself, meeting the same full disk with the usual error).
   */
  take(id: number): TempFile | undefined {
    const job = this.job
    if (!job) return undefined
    const result = this.finish()
    this.job = undefined
    if (result === DONE && job.id === id) return job
    this.drop(job, result)
    return undefined
  }

  /** Stops any preparation and removes its temporary. */
  close(): void {
    const job = this.job
    if (job) {
      Atomics.store(this.state, CANCEL, 1)
      const result = this.finish()
      this.job = undefined
      this.drop(job, result)
    }
  }

  /** Waits for the job to end; BUSY when the thread never took it or never ended it (it is then told to stop). */
  private finish(): number {
    const started = Date.now()
    while (Atomics.load(this.state, STATE) === BUSY) {
      if (Date.now() - started > (Atomics.load(this.state, TAKEN) === 0 ? START_TIMEOUT_MS : JOB_TIMEOUT_MS)) {
        Atomics.store(this.state, CANCEL, 1)
        return BUSY
      }
      Atomics.wait(this.state, STATE, BUSY, 100)
    }
    const result = Atomics.load(this.state, STATE)
    Atomics.store(this.state, STATE, IDLE)
    pending.delete(this.state)
    return result
  }

  /** Removes a temporary not to be used; its fd stays open if the thread may still write to it, lest it write into a reused fd. */
  private drop(job: Job, result: number): void {
    if (result === BUSY) {
      discardTemp({...job, fd: -1})
      this.disabled = true
    } else {
      discardTemp(job)
    }
  }
}
