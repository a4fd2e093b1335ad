// The segment manager: a WAL directory as a sequence of segments with one
// current segment that takes appends, rotating when a record does not fit.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, WalError} from '../errors.js'
import {currentUmask, makeDirs} from '../fs/owner.js'
import {DEFAULT_SEGMENT_SIZE, maxPayloadSize, nowMicros} from '../format/format.js'
import {removeDeadTemporaries} from '../fs/files.js'
import {listWal, resolveWalDir, SegmentFile, WalListing} from '../read/directory.js'
import {Position, MAX_SEGMENT_ID, segmentFileName} from '../format/names.js'
import {checkSegmentSize, WalSegment} from './segment.js'
import {collectGarbage, GcOptions, GcResult} from '../maintain/gc.js'
import {PREPARE_MIN_SIZE, SegmentPipeline} from './segment-pipeline.js'

/** Segments a writer without sealOnRotation leaves unsynced (and holds open) at most. */
const MAX_UNSEALED = 8

export interface WriterOptions {
  /**
   * A segment rotated out is made durable at once, in the background (true,
   * the default), or only at the next sync or close (false, as Shardex, which
   * never syncs, leaves it to the kernel). Either way sync and close return
   * only once every record appended is durable; what differs is how much a
   * power cut can take from a writer that rarely syncs, and whether the disk
   * is written while appends go on.
   */
  sealOnRotation?: boolean
}

export interface InitOptions extends WriterOptions {
  segmentSize?: number
  createdAtUs?: bigint
}

export class WalManager {
  readonly dir: string
  readonly segmentSize: number
  private listing: WalListing
  private cur: WalSegment | undefined
  private readonly maxLength: number
  /** Prepares the next segment in the background once this writer looks like filling the current one. */
  private readonly pipeline: SegmentPipeline | undefined
  private rotated = false
  private cleaned = false
  private readonly sealOnRotation: boolean
  /** Segments rotated out whose seal waits for the next sync or close (sealOnRotation false). */
  private unsealed: Array<{fd: number; file: string}> = []
  /**
   * What the caller should say on stderr: a new segment that could not be
   * given the owner of the WAL's newest one (walctl not running as root).
   */
  readonly warnings: string[] = []

  private constructor(listing: WalListing, segmentSize: number, options: WriterOptions) {
    this.sealOnRotation = options.sealOnRotation ?? true
    this.dir = listing.dir
    this.listing = listing
    this.segmentSize = segmentSize
    this.maxLength = maxPayloadSize(segmentSize)
    this.pipeline = segmentSize >= PREPARE_MIN_SIZE ? new SegmentPipeline(listing.dir, segmentSize) : undefined
  }

  /** Creates a WAL with its first segment. The directory is made if missing and must hold no segment. */
  static init(input: string, options: InitOptions = {}): WalManager {
    const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE
    checkSegmentSize(segmentSize)
    const abs = path.resolve(input)
    let dir = abs
    if (fs.existsSync(abs)) {
      dir = resolveWalDir(abs)
    } else {
      makeWalDir(abs)
    }
    const existing = listWal(dir)
    if (existing.segments.length > 0) {
      throw new WalError(ExitCode.CANT_CREATE, `refusing to initialise: the directory already holds ${existing.segments.length} segment(s), the first ${existing.segments[0].name}`, {file: dir})
    }
    const seg = WalSegment.create(dir, 1, segmentSize, options.createdAtUs ?? nowMicros())
    const manager = new WalManager(listWal(dir), segmentSize, options)
    manager.cur = seg
    manager.arm(seg)
    return manager
  }

  /**
   * Opens an existing WAL for appending: a WAL directory, or a Shardex index
   * root holding `wal/`. Every segment must have the newest one's size.
   */
  static open(input: string, options: WriterOptions = {}): WalManager {
    const dir = resolveWalDir(input)
    const listing = listWal(dir)
    const newest = listing.segments.at(-1)
    if (!newest) throw new WalError(ExitCode.NO_INPUT, "no WAL segments (wal_NNNNNN.log) here; create a WAL with 'walctl init'", {file: dir})
    const odd = listing.segments.filter((s) => s.size !== newest.size)
    if (odd.length > 0) {
      const names = odd.slice(0, 5).map((s) => `${s.name} (${s.size} bytes)`).join(', ')
      throw new WalError(ExitCode.DATA, `segments disagree on their size: the newest, ${newest.name}, is ${newest.size} bytes but ${names}${odd.length > 5 ? ` and ${odd.length - 5} more` : ''} differ; refusing to append`, {file: dir})
    }
    return new WalManager(listing, newest.size, options)
  }

  get segments(): readonly SegmentFile[] {
    return this.listing.segments
  }

  get strays(): WalListing['strays'] {
    return this.listing.strays
  }

  get maxPayload(): number {
    return maxPayloadSize(this.segmentSize)
  }

  /** The newest segment, opened for appending on first use. */
  current(): WalSegment {
    if (!this.cur) {
      const newest = this.listing.segments.at(-1)
      if (!newest) throw new WalError(ExitCode.NO_INPUT, 'no WAL segments', {file: this.dir})
      this.removeDeadTemporaries()
      this.cur = WalSegment.open(newest.path)
      this.arm(this.cur)
    }
    return this.cur
  }

  /**
   * Sets when the next segment starts being prepared: at once after a
   * rotation (this writer fills segments), otherwise once this writer has
   * appended as much as is left, so that a writer of a few records does not
   * write a whole segment only to remove it at close.
   */
  private arm(seg: WalSegment): void {
    if (!this.pipeline) return
    const at = this.rotated ? seg.writePointer : Math.ceil((seg.capacity + seg.writePointer) / 2)
    seg.setWatermark(at, () => {
      const last = this.listing.segments.at(-1)
      if (last && last.id < MAX_SEGMENT_ID) this.pipeline?.prepare(last.id + 1, {like: last.path})
    })
  }

  /** Temporaries of a writer that was killed (a prepared or half-created segment) go before this one writes. */
  private removeDeadTemporaries(): void {
    if (this.cleaned) return
    this.cleaned = true
    const temps = this.listing.strays.filter((s) => s.kind === 'temporary').map((s) => s.name)
    if (temps.length > 0 && removeDeadTemporaries(this.dir, temps) > 0) {
      this.listing = {...this.listing, strays: this.listing.strays.filter((s) => s.kind !== 'temporary' || fs.existsSync(s.path))}
    }
  }

  /** Appends one record, rotating first when it does not fit in the current segment. */
  append(data: Uint8Array): Position {
    const length = data.length
    if (length > this.maxLength) {
      throw new WalError(ExitCode.DATA, `record of ${length} bytes is larger than a segment of ${this.segmentSize} bytes can hold (at most ${this.maxPayload})`, {file: this.dir})
    }
    let seg = this.cur ?? this.current()
    if (length > 0 && !seg.fits(length)) seg = this.rotateSegment()
    return {segment: seg.id, offset: seg.appendRange(data, 0, length)}
  }

  /** Every record appended so far is durable once this returns: the segments rotated out (their seals), then the current one. */
  sync(): void {
    this.sealRotated()
    this.pipeline?.waitSeals()
    this.cur?.sync()
  }

  /** Starts the seals that waited for a sync or close. */
  private sealRotated(): void {
    for (const {fd, file} of this.unsealed.splice(0)) this.pipeline!.seal(fd, file)
  }

  /** Starts the next segment (highest id + 1) and makes it current. Returns its id. */
  rotate(): number {
    return this.rotateSegment().id
  }

  private rotateSegment(): WalSegment {
    const last = this.listing.segments.at(-1)
    const nextId = (last?.id ?? 0) + 1
    if (nextId > MAX_SEGMENT_ID) throw new WalError(ExitCode.CANT_CREATE, `segment ids are exhausted (the highest is ${MAX_SEGMENT_ID})`, {file: this.dir})
    // The old segment is made durable off the append path (the pipeline's seal), once the new one's header
    // is synced (the two would share the disk); sync and close wait for it, so nothing acknowledged depends on it.
    // Without a pipeline (small segments) it is synced here.
    const old = this.cur
    this.cur = undefined
    let sealFd = -1
    if (old && this.pipeline) sealFd = old.detach()
    else old?.close()
    try {
      this.removeDeadTemporaries()
      // The new segment is the service's as much as the old ones: same owner, group and mode as the newest.
      const prepared = this.pipeline?.take(nextId)
      let seg: WalSegment
      if (prepared) {
        seg = WalSegment.installPrepared(prepared, path.join(this.dir, segmentFileName(nextId)))
        this.warnings.push(...prepared.warnings)
      } else {
        seg = WalSegment.create(this.dir, nextId, this.segmentSize, undefined, {like: last?.path, warnings: this.warnings})
      }
      this.listing = {...this.listing, segments: [...this.listing.segments, {id: nextId, name: path.basename(seg.path), path: seg.path, size: seg.capacity}]}
      this.cur = seg
      this.rotated = true
      this.arm(seg)
      return seg
    } finally {
      if (sealFd >= 0 && this.sealOnRotation) this.pipeline!.seal(sealFd, old!.path)
      else if (sealFd >= 0) {
        this.unsealed.push({fd: sealFd, file: old!.path})
        // A descriptor held per segment is bounded: past a few, the oldest is sealed anyway.
        if (this.unsealed.length > MAX_UNSEALED) {
          const oldest = this.unsealed.shift()!
          this.pipeline!.seal(oldest.fd, oldest.file)
        }
      }
    }
  }

  /**
   * Removes (or archives) the oldest segments the policies allow, as Shardex's
   * cleanup does; never the current (newest) segment. See gc.ts for the
   * policies and the safety rules. The caller holds the writer lock unless it
   * is a dry run.
   */
  cleanup(options: GcOptions): GcResult {
    const result = collectGarbage(this.dir, options)
    if (!result.dryRun && result.segments.length > 0) {
      const gone = new Set(result.segments.map((s) => s.id))
      this.listing = {...this.listing, segments: this.listing.segments.filter((s) => !gone.has(s.id))}
    }
    return result
  }

  close(): void {
    try {
      this.cur?.close()
    } finally {
      this.cur = undefined
      this.sealRotated()
      this.pipeline?.close()
    }
  }
}

/**
 * Creates a new WAL directory (and missing parents) as init does: 0755 within
 * the umask, set explicitly, so that it is never group- or world-writable
 * even under umask 000.
 */
export function makeWalDir(dir: string): void {
  makeDirs(dir, {mode: 0o755 & ~currentUmask()}, 'create directory')
}
