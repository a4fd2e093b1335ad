// Which thread of a parallel verify scans which segment, decided as the scans
// go rather than split up front: every thread walks the WAL's segments in
// order and takes each one nobody has taken yet, so a thread that started
// late (a worker still loading) or runs slower (a core shared with other
// work) simply takes fewer, and all of them finish within one segment of
// each other. The claims live in shared memory, one slot per segment.

export class SegmentClaims {
  private readonly slots: Int32Array
  private readonly index: Map<number, number>

  /** `ids`: the segments to share out, as listed once by the thread that starts the verify. */
  constructor(readonly ids: readonly number[], readonly buffer = new SharedArrayBuffer(4 * ids.length)) {
    this.slots = new Int32Array(buffer)
    this.index = new Map(ids.map((id, i) => [id, i]))
  }

  /**
   * Claims segment `id` for thread `thread` (numbered from 1): true when it was
   * still free. A segment not in the original listing (created since) is
   * nobody's, as in a verify that lists once.
   */
  claim(id: number, thread: number): boolean {
    const i = this.index.get(id)
    return i !== undefined && Atomics.compareExchange(this.slots, i, 0, thread) === 0
  }

  /** Whether `thread` took any segment (a thread that took none has nothing to report). */
  took(thread: number): boolean {
    for (let i = 0; i < this.slots.length; i++) if (Atomics.load(this.slots, i) === thread) return true
    return false
  }

  /** The claims of one thread, in the shape scanWal's `segments` filter asks for. */
  filterFor(thread: number): {has(id: number): boolean} {
    return {has: (id) => this.claim(id, thread)}
  }
}
