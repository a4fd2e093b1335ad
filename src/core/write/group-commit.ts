// Group commit: many appends, one msync per batch, and the batch's positions
// handed on only once they are durable.
import {WalManager} from './manager.js'

export interface GroupCommitOptions {
  /** Sync after at most this many records. */
  maxRecords: number
  /** Sync at most this long after the first unsynced record. */
  maxDelayMs: number
  /** False: skip msync (positions are still handed on per batch). */
  sync: boolean
  /** Receives each durable batch: parallel arrays of segment ids and record offsets, `count` long. */
  onCommit: (segments: Uint32Array, offsets: Float64Array, count: number) => void
}

export class GroupCommitter {
  private segs: Uint32Array
  private offs: Float64Array
  private count = 0
  private timer: NodeJS.Timeout | undefined
  private failure: unknown
  total = 0

  constructor(private readonly manager: WalManager, private readonly options: GroupCommitOptions) {
    const n = Math.max(1, Math.min(options.maxRecords, 1 << 20))
    this.segs = new Uint32Array(n)
    this.offs = new Float64Array(n)
  }

  add(data: Uint8Array): void {
    this.addRange(data, 0, data.length)
  }

  /** Adds `src[start, end)` as one record, copied at once (valid only during the call). */
  addRange(src: Uint8Array, start: number, end: number): void {
    if (this.failure !== undefined) this.rethrow()
    const seg = this.manager.current()
    let segment: number
    let offset: number
    if (end > start && seg.fits(end - start)) {
      segment = seg.id
      offset = seg.appendRange(src, start, end)
    } else {
      // Rotation and every refusal stay with the manager.
      const pos = this.manager.append(src.subarray(start, end))
      segment = pos.segment
      offset = pos.offset
    }
    if (this.count === this.segs.length) this.grow()
    this.segs[this.count] = segment
    this.offs[this.count] = offset
    this.count++
    this.total++
    if (this.count >= this.options.maxRecords) this.commit()
    else if (!this.timer && this.options.maxDelayMs >= 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        try {
          this.commit()
        } catch (error) {
          this.failure = error
        }
      }, this.options.maxDelayMs)
    }
  }

  /** Makes every record added so far durable and hands their positions on. */
  commit(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    this.rethrow()
    if (this.count === 0) return
    if (this.options.sync) this.manager.sync()
    const n = this.count
    this.count = 0
    this.options.onCommit(this.segs, this.offs, n)
  }

  private grow(): void {
    const segs = new Uint32Array(this.segs.length * 2)
    const offs = new Float64Array(this.offs.length * 2)
    segs.set(this.segs)
    offs.set(this.offs)
    this.segs = segs
    this.offs = offs
  }

  private rethrow(): void {
    if (this.failure !== undefined) {
      const f = this.failure
      this.failure = undefined
      throw f
    }
  }
}

/** Writes the decimal digits of a non-negative integer below 2^53 at `at`; returns the end. */
function writeDecimal(out: Buffer, at: number, value: number): number {
  let digits = 1
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++
  let v = value
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 48 + (v % 10)
    v = Math.floor(v / 10)
  }
  return at + digits
}

/** `SEGMENT:OFFSET\n` for each of the first `count` positions, as bytes (no string per record). */
export function formatPositionLines(segments: Uint32Array, offsets: Float64Array, count: number): Buffer {
  const out = Buffer.allocUnsafe(count * 28)
  let at = 0
  for (let i = 0; i < count; i++) {
    at = writeDecimal(out, at, segments[i])
    out[at++] = 58
    at = writeDecimal(out, at, offsets[i])
    out[at++] = 10
  }
  return out.subarray(0, at)
}
