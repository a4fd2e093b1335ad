// The segment pipeline, as etcd's file_pipeline.go: while the current segment
// fills, the next one is prepared as a temporary of walctl's own, every block
// written with zeros (so every block is allocated: no write through the
// mapping can meet a full disk), by a worker thread on the other core. A
// rotation then writes the header, syncs that page and moves the file into
// place (WalSegment.installPrepared) instead of writing the whole segment in
// the append path; the segment it leaves is made durable by another thread
// (a seal) while appends go on. The append loop is synchronous, so the
// threads are driven through shared memory (Atomics), not through the event
// loop (threads.ts).
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError} from '../errors.js'
import {CreateFileOptions, createTempFor, discardTemp, TempFile, WRITE_CHUNK} from '../fs/files.js'
import {segmentFileName} from '../format/names.js'
import {BUSY, DONE, FAILED, IDLE, post, settled, STATE} from './threads.js'

/** Below this size a segment is quicker to write in place than to hand to a thread. */
export const PREPARE_MIN_SIZE = 1024 * 1024

/**
 * Slots of the shared state: the job's state, whether the thread took the
 * job, the next chunk of zeros to claim, the chunks written, and how many
 * writers are between a look at the state and the end of their write.
 */
const TAKEN = 1
const NEXT = 2
const FILLED = 3
const ACTIVE = 4
/** Set once the file's size is durable (ftruncate, fsync): before any zero is written, so that no fsync ever writes them. */
const SIZED = 5
const SLOTS = 6
/** A preparation's unit of work: whoever claims a chunk writes it, in one write (see WRITE_CHUNK). */
const CHUNK = WRITE_CHUNK
/** A thread that has not taken its job after this long never started (no memory for it, say). */
const START_TIMEOUT_MS = 10_000
/** A thread still on its job after this long is given up on (a thread that died in it can no longer say so). */
const JOB_TIMEOUT_MS = 600_000

// Writes zeros over the prepared file, a chunk at a time, claimed through the
// shared state: the thread runs it, and so does a rotation that finds the
// segment not ready yet (take), so that both cores allocate the pages rather
// than one waiting for the other. The last chunk written makes the job DONE;
// an error makes it FAILED, as does the owner to cancel it, and whoever then
// closes the file first waits for ACTIVE to fall to 0 (no write still under
// way into a descriptor about to be closed and reused: a writer counts
// itself in before it looks at the state). The first chunk's writer makes
// the file's size durable first (ftruncate and fsync of a file with nothing
// written yet: metadata only); the zeros themselves are never synced, since
// the seal writes each page back once, with its records, and a page never
// written back reads as zeros. One text, run by both.
const ZERO_CHUNKS = `
  const chunks = Math.ceil(size / ${CHUNK})
  for (;;) {
    Atomics.add(st, ${ACTIVE}, 1)
    let k = -1
    if (Atomics.load(st, ${STATE}) === ${BUSY}) k = Atomics.add(st, ${NEXT}, 1)
    let ok = k >= 0 && k < chunks
    if (ok) {
      const at = k * ${CHUNK}
      const length = Math.min(${CHUNK}, size - at)
      try {
        if (Atomics.load(st, ${SIZED}) === 0) {
          fs.ftruncateSync(fd, size)
          fs.fsyncSync(fd)
          Atomics.store(st, ${SIZED}, 1)
        }
        for (let done = 0; done < length; ) done += fs.writeSync(fd, zeros, 0, length - done, at + done)
      } catch {
        ok = false
        k = -1
      }
    }
    Atomics.sub(st, ${ACTIVE}, 1)
    Atomics.notify(st, ${ACTIVE})
    if (!ok) {
      if (k < chunks && Atomics.compareExchange(st, ${STATE}, ${BUSY}, ${FAILED}) === ${BUSY}) Atomics.notify(st, ${STATE})
      return
    }
    if (Atomics.add(st, ${FILLED}, 1) + 1 === chunks) {
      Atomics.compareExchange(st, ${STATE}, ${BUSY}, ${DONE})
      Atomics.notify(st, ${STATE})
      return
    }
  }
`

// Plain CommonJS run with eval, so that the thread loads nothing but node:fs
// (no TypeScript loader, no module graph). Jobs run in order: a preparation
// (ZERO_CHUNKS), or a seal, which fdatasyncs a rotated-out segment and says
// how it went in its own shared state.
const WORKER = `
const {parentPort} = require('node:worker_threads')
const fs = require('node:fs')
const zeros = Buffer.alloc(${CHUNK})
function zeroChunks(st, fd, size) {${ZERO_CHUNKS}}
parentPort.on('message', ({fd, size, seal, state: st}) => {
  Atomics.store(st, ${TAKEN}, 1)
  if (!seal) return zeroChunks(st, fd, size)
  let result = ${DONE}
  try {
    fs.fdatasyncSync(fd)
  } catch {
    result = ${FAILED}
  }
  Atomics.store(st, ${STATE}, result)
  Atomics.notify(st, ${STATE})
})
`

let zeros: Buffer | undefined
/** ZERO_CHUNKS in this thread. */
const zeroChunksHere = new Function('st', 'fd', 'size', 'fs', 'zeros', ZERO_CHUNKS) as (st: Int32Array, fd: number, size: number, f: typeof fs, z: Buffer) => void

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
  return new Int32Array(new SharedArrayBuffer(SLOTS * 4))
}

/**
 * Two lanes (threads.ts): one prepares segments, one seals them, so that a
 * preparation (page cache only) never waits behind a seal (the disk).
 */
const PREPARE = 'prepare'
const SEAL = 'seal'

export class SegmentPipeline {
  /** The job's own shared state, new for each job: a message the thread takes late must never find a later job's. */
  private state = newState()
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
      this.state = newState()
      this.job = {...temp, id}
      post(PREPARE, WORKER, this.state, {fd: temp.fd, size: this.size})
    } catch {
      this.job = undefined
      Atomics.store(this.state, STATE, IDLE)
      discardTemp(temp)
    }
  }

  /**
   * The prepared temporary of segment `id`, once every block is written
   * (waiting for the worker if it is still busy), or undefined when there is
   * none or it failed (then it is removed, and the caller creates the segment
   * itself, meeting the same full disk with the usual error).
   */
  take(id: number): TempFile | undefined {
    const job = this.job
    if (!job) return undefined
    // Not ready: this thread writes what the other has not claimed yet, instead of waiting for it.
    if (job.id === id && Atomics.load(this.state, STATE) === BUSY) zeroChunksHere(this.state, job.fd, this.size, fs, (zeros ??= Buffer.alloc(CHUNK)))
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
      post(SEAL, WORKER, state, {fd, seal: true})
      this.seals.push({fd, file, state})
    } catch {
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
        if (Atomics.compareExchange(this.state, STATE, BUSY, FAILED) === BUSY) Atomics.notify(this.state, STATE)
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
      settled(seal.state)
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

/**
 * Waits for a job to end, and for a preparation that did not complete, for
 * every write still under way; BUSY when the thread never took the job or
 * never ended it (it is then told to stop, and the job's fd must stay open).
 */
function finish(state: Int32Array): number {
  const started = Date.now()
  const late = (): boolean => Date.now() - started > (Atomics.load(state, TAKEN) === 0 ? START_TIMEOUT_MS : JOB_TIMEOUT_MS)
  while (Atomics.load(state, STATE) === BUSY) {
    if (late()) {
      Atomics.compareExchange(state, STATE, BUSY, FAILED)
      return BUSY
    }
    Atomics.wait(state, STATE, BUSY, 100)
  }
  const result = Atomics.load(state, STATE)
  for (let active = Atomics.load(state, ACTIVE); result !== DONE && active > 0; active = Atomics.load(state, ACTIVE)) {
    if (late()) return BUSY
    Atomics.wait(state, ACTIVE, active, 100)
  }
  Atomics.store(state, STATE, IDLE)
  settled(state)
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
