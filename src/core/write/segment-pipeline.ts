// The segment pipeline, as etcd's file_pipeline.go: while the current segment
// fills, the next one is prepared as a temporary of walctl's own, every block
// written with zeros and fsynced, by a worker thread on the other core. A
// rotation then writes the header, syncs it and moves the file into place
// (files.ts installPrepared) instead of writing the whole segment in the
// append path. The append loop is synchronous, so the worker is driven
// through shared memory (Atomics), not through the event loop.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {Worker} from 'node:worker_threads'
import {ExitCode, fsError} from '../errors.js'
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
// (no TypeScript loader, no module graph). Jobs run in order. A preparation
// writes zeros from \`from\` to \`size\` a megabyte at a time, checking for a
// cancel between writes, and fsyncs; a seal fdatasyncs a rotated-out segment.
// Each says how it went in its own shared state.
const WORKER = `
const {parentPort} = require('node:worker_threads')
const fs = require('node:fs')
const zeros = Buffer.alloc(1 << 20)
parentPort.on('message', ({fd, from, size, seal, state: st}) => {
  Atomics.store(st, ${TAKEN}, 1)
  let result = ${DONE}
  try {
    if (seal) fs.fdatasyncSync(fd)
    else {
      for (let pos = from; pos < size; ) {
        if (Atomics.load(st, ${CANCEL}) === 1) { result = ${FAILED}; break }
        pos += fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - pos), pos)
      }
      if (result === ${DONE}) fs.fsyncSync(fd)
    }
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

/** A rotated-out segment being made durable: its descriptor, open until the seal ends. */
interface Seal {
  fd: number
  file: string
  state: Int32Array
}

function newState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12))
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
  private readonly state = newState()
  private job: Job | undefined
  /** Seals not yet seen to end, oldest first. */
  private seals: Seal[] = []
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

  /**
   * Makes a rotated-out segment durable off the append path: `fd` (the
   * segment's, handed over by WalSegment.detach) is fdatasynced by the thread
   * while appends go on in the next segment. What is acknowledged stays
   * durable: sync and close wait for every seal first (waitSeals). Without a
   * thread the seal is made here and now.
   */
  seal(fd: number, file: string): void {
    this.reap()
    const state = newState()
    try {
      if (this.disabled) throw new Error('no thread')
      const worker = sharedThread()
      Atomics.store(state, STATE, BUSY)
      pending.add(state)
      worker.postMessage({fd, seal: true, state})
      this.seals.push({fd, file, state})
    } catch {
      pending.delete(state)
      sealHere({fd, file, state})
    }
  }

  /**
   * Returns once every segment rotated out so far is durable: the thread's
   * seals waited for, and any that failed or never ran made here (an fdatasync
   * that fails here too is the caller's error: exit 74, nothing acknowledged).
   */
  waitSeals(): void {
    while (this.seals.length > 0) {
      const seal = this.seals[0]
      const result = finish(seal.state)
      this.seals.shift()
      if (result === DONE) closeQuietly(seal.fd)
      else if (result === FAILED) sealHere(seal)
      else {
        // The thread never ended it: it may still be about to fdatasync this descriptor, so it is left open.
        this.disabled = true
        syncOrThrow(seal.fd, seal.file)
      }
    }
  }

  /** Stops any preparation and removes its temporary; waits for the seals (see waitSeals). */
  close(): void {
    const job = this.job
    try {
      if (job) {
        Atomics.store(this.state, CANCEL, 1)
        const result = this.finish()
        this.job = undefined
        this.drop(job, result)
      }
    } finally {
      this.waitSeals()
    }
  }

  /** Closes the descriptors of seals already ended, so that a long writer does not hold one per segment it filled. */
  private reap(): void {
    while (this.seals.length > 0 && Atomics.load(this.seals[0].state, STATE) === DONE) {
      const seal = this.seals.shift()!
      pending.delete(seal.state)
      closeQuietly(seal.fd)
    }
  }

  private finish(): number {
    return finish(this.state)
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

/** Waits for a job to end; BUSY when the thread never took it or never ended it (it is then told to stop). */
function finish(state: Int32Array): number {
  const started = Date.now()
  while (Atomics.load(state, STATE) === BUSY) {
    if (Date.now() - started > (Atomics.load(state, TAKEN) === 0 ? START_TIMEOUT_MS : JOB_TIMEOUT_MS)) {
      Atomics.store(state, CANCEL, 1)
      return BUSY
    }
    Atomics.wait(state, STATE, BUSY, 100)
  }
  const result = Atomics.load(state, STATE)
  Atomics.store(state, STATE, IDLE)
  pending.delete(state)
  return result
}

function syncOrThrow(fd: number, file: string): void {
  try {
    fs.fdatasyncSync(fd)
  } catch (error) {
    throw fsError(error, file, 'fdatasync', ExitCode.IO)
  }
}

/** A seal made in this thread: fdatasync, then the descriptor closed whatever happened. */
function sealHere(seal: Seal): void {
  try {
    syncOrThrow(seal.fd, seal.file)
  } finally {
    closeQuietly(seal.fd)
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd)
  } catch {
    // Already closed.
  }
}
