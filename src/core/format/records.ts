// The record decoder: walks `[len][crc][data]` records in one segment's bytes,
// classifies whatever stops the walk, and resyncs past damage to find the valid
// records hidden behind it. Pure: it reads a ByteSource (a Buffer, or a window
// over a file) and never changes a byte.
//
// Time is linear in the segment's size whatever its bytes: each resync
// candidate costs O(1) (a structural filter, then range CRCs from prefix
// registers), and a candidate is accepted only when what follows it is
// consistent (the next record is valid, or the zero tail, or the end), so a
// record-shaped fragment inside a damaged record's payload is not invented.
import {crc32 as crc32Import, crcByte as crcByteImport, crcHex} from './crc.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE as RECORD_HEADER_SIZE_IMPORT} from './format.js'
import {CrcPrefix, shiftZeros as shiftZerosImport} from '../read/crc-range.js'
import {ByteSource, MemorySource, u32 as u32Import} from '../read/source.js'
import {kernelFor} from './record-kernel.js'

// Module-local bindings: a loader that turns imports into getters (tsx, under which tests and the bench run)
// would otherwise pay a property access per use in the loops below.
const RECORD_HEADER_SIZE = RECORD_HEADER_SIZE_IMPORT
const crc32 = crc32Import
const crcByte = crcByteImport
const shiftZeros = shiftZerosImport
const u32 = u32Import

export {firstNonZero, lastNonZeroEnd} from '../read/source.js'

export type RecordDamageKind = 'crc-mismatch' | 'bad-length' | 'zero-length' | 'partial-record' | 'debris'

/** A byte range `[offset, end)` of a segment that holds no valid record. */
export interface DamagedRegion {
  offset: number
  end: number
  kind: RecordDamageKind
  message: string
  /** A valid record was found after this region in the same segment. */
  hidesRecords: boolean
}

/**
 * Called for each valid record: `offset` is the record header's offset, the
 * payload is the `length` bytes 8 later. Return false to stop.
 */
export type RecordVisitor = (offset: number, length: number, crc32: number, resynced: boolean) => boolean | void

export interface RecordScanOptions {
  /** Bytes of the segment that count (its file size); defaults to the source's size. */
  capacity?: number
  /** The WAL's nominal segment size; a record cut by a shorter file is a partial record. */
  segmentSize?: number
  start?: number
  onRecord?: RecordVisitor
  /** Called for each damaged region as soon as it is classified. */
  onDamage?: (region: DamagedRegion) => void
}

export interface RecordScanResult {
  records: number
  /** Their payload bytes, and how many of them were found only past damage (counted here, so that a reader needs no visitor for them). */
  payloadBytes: number
  resyncedRecords: number
  /** End of the last valid record before any damage: where a writer resumes. */
  cleanEnd: number
  /** End of the last valid record found anywhere, resynced ones included. */
  lastRecordEnd: number
  damage: DamagedRegion[]
  /** The visitor asked to stop early. */
  stopped: boolean
}

/** Returned by a step that stopped to let a driven scan pause. */
const PAUSED = -2
/** Resync candidates tested between pauses of a driven scan (well under 100 ms). */
const RESYNC_SLICE = 1 << 19
/**
 * Candidates whose record would end past the loaded window (only in a segment
 * larger than the window) need reads outside it: at most this many small
 * reads per segment, and at most the segment's size in streamed CRC bytes.
 * Past either budget such candidates are passed over, so a record longer than
 * half the window found only by resync may be missed; time stays linear.
 */
export const FAR_PROBES = 1 << 16
/** Bytes of zeros looked through between pauses of a driven scan (a sparse segment can hold gigabytes of them). */
const ZERO_SLICE = 64 * 1024 * 1024

interface PendingRegion {
  kind: 'zero' | 'length' | 'crc'
  offset: number
  /** First non-zero byte (zero), the record's length (length, crc). */
  at: number
  stored: number
  computed: number
  /** Resync cursor. */
  q: number
  /** crc: the place right after the damaged record is tried first. */
  triedNext: boolean
}

export class RecordScanner {
  private readonly capacity: number
  private readonly segmentSize: number
  private readonly start: number
  private readonly onRecord?: RecordVisitor
  private readonly onDamage?: (region: DamagedRegion) => void
  private off: number
  private records = 0
  private payloadBytes = 0
  private resyncedRecords = 0
  private cleanEnd = -1
  private lastRecordEnd: number
  private resynced = false
  private stopped = false
  private finished = false
  private readonly damage: DamagedRegion[] = []
  private pending?: PendingRegion
  /** Everything from here to the capacity is zero (computed on the first resync). */
  private tail = -1
  /** While the zero tail is looked for: everything from here to the capacity is zero. */
  private tailScan: number
  /** While a run of zeros at `off` is looked through: where the search goes on. */
  private zeroFrom = -1
  private prefix?: CrcPrefix
  private prefixBase = -1
  private prefixEnd = -1
  private farProbes = FAR_PROBES
  private farBytes: number

  constructor(private readonly src: ByteSource, options: RecordScanOptions = {}) {
    this.capacity = options.capacity ?? src.size
    this.segmentSize = options.segmentSize ?? this.capacity
    this.start = options.start ?? FIRST_RECORD_OFFSET
    this.onRecord = options.onRecord
    this.onDamage = options.onDamage
    this.off = this.start
    this.lastRecordEnd = this.start
    this.farBytes = this.capacity
    this.tailScan = this.capacity
  }

  /** Scans on; with `pausable`, returns false after each window load or slice of resync work (call again to go on). */
  run(pausable = false): boolean {
    while (!this.finished) {
      if (this.pending) {
        const next = this.resyncStep(pausable)
        if (next === PAUSED) return false
        this.endRegion(next)
        continue
      }
      this.cleanRun()
      if (!this.finished && this.step() === PAUSED && pausable) return false
    }
    return true
  }

  result(): RecordScanResult {
    return {records: this.records, payloadBytes: this.payloadBytes, resyncedRecords: this.resyncedRecords, cleanEnd: this.cleanEnd < 0 ? this.lastRecordEnd : this.cleanEnd, lastRecordEnd: this.lastRecordEnd, damage: this.damage, stopped: this.stopped}
  }

  /** Valid records wholly inside the loaded bytes: the hot path. */
  private cleanRun(): void {
    const src = this.src
    const buf = src.buf
    const base = src.base
    const lim = Math.min(src.end, this.capacity)
    const onRecord = this.onRecord
    const resynced = this.resynced
    // Bytes read into the record kernel's memory are walked there, a run at a time; each record it stops at
    // (too long for it, or not valid) is then judged by the loop below, exactly as without it. A visitor still
    // gets its call per record from that loop, the kernel's run only sparing it the CRCs (`trusted`).
    const kernel = kernelFor(buf)
    let off = this.off
    let trusted = off
    let records = this.records
    let last = this.lastRecordEnd
    let payload = this.payloadBytes
    while (off >= base && off + RECORD_HEADER_SIZE <= lim) {
      if (kernel && off >= trusted) {
        const stop = kernel.run(buf, off - base, lim - base) + base
        if (onRecord) {
          trusted = stop
        } else if (kernel.count > 0) {
          records += kernel.count
          payload += stop - off - kernel.count * RECORD_HEADER_SIZE
          last = stop
          off = stop
          if (off + RECORD_HEADER_SIZE > lim) break
        }
      }
      const i = off - base
      const length = u32(buf, i)
      const dataEnd = off + RECORD_HEADER_SIZE + length
      if (length === 0 || dataEnd > lim) break
      const stored = u32(buf, i + 4)
      if (off >= trusted && crc32(buf, i + RECORD_HEADER_SIZE, i + RECORD_HEADER_SIZE + length) !== stored) break
      records++
      payload += length
      last = dataEnd
      if (onRecord && onRecord(off, length, stored, resynced) === false) {
        this.stopped = true
        this.finished = true
        off = dataEnd
        break
      }
      off = dataEnd
    }
    if (resynced) this.resyncedRecords += records - this.records
    this.off = off
    this.records = records
    this.payloadBytes = payload
    this.lastRecordEnd = last
  }

  /** Whatever the hot path stopped at: a window to load, a record longer than the window, damage, the end. */
  private step(): number | void {
    const src = this.src
    const capacity = this.capacity
    const off = this.off
    if (off >= capacity) {
      this.finished = true
      return
    }
    if (src.end < capacity && (off < src.base || off + RECORD_HEADER_SIZE > src.end)) {
      src.load(off)
      return PAUSED
    }
    if (off + RECORD_HEADER_SIZE > capacity) {
      this.finished = true
      const nz = src.firstNonZero(off, capacity)
      if (nz < 0) return
      const kind = capacity < this.segmentSize ? 'partial-record' : 'debris'
      const left = capacity - off
      this.report({offset: off, end: capacity, kind, hidesRecords: false, message: kind === 'debris'
        ? `non-zero bytes in the last ${left} bytes, too few for a record header`
        : `record header cut by the end of the file (${left} of ${RECORD_HEADER_SIZE} bytes)`})
      return
    }
    const length = src.u32(off)
    if (length === 0) {
      const from = this.zeroFrom > off ? this.zeroFrom : off
      const to = Math.min(capacity, from + ZERO_SLICE)
      const nz = src.firstNonZero(from, to)
      if (nz < 0 && to < capacity) {
        this.zeroFrom = to
        return PAUSED
      }
      this.zeroFrom = -1
      if (nz < 0) {
        this.finished = true
        return
      }
      this.pending = {kind: 'zero', offset: off, at: nz, stored: 0, computed: 0, q: Math.max(off + 1, nz - 3), triedNext: true}
      return
    }
    if (length > capacity - off - RECORD_HEADER_SIZE) {
      this.pending = {kind: 'length', offset: off, at: length, stored: 0, computed: 0, q: off + 1, triedNext: true}
      return
    }
    const dataEnd = off + RECORD_HEADER_SIZE + length
    if (dataEnd > src.end && length + RECORD_HEADER_SIZE <= src.span) {
      src.load(off)
      return PAUSED
    }
    // Here only for a record longer than the window (its CRC streamed) or a mismatch the hot path found.
    const stored = src.u32(off + 4)
    const computed = src.crc(off + RECORD_HEADER_SIZE, dataEnd)
    if (computed === stored) {
      this.records++
      this.payloadBytes += length
      if (this.resynced) this.resyncedRecords++
      this.lastRecordEnd = dataEnd
      this.off = dataEnd
      if (this.onRecord && this.onRecord(off, length, stored, this.resynced) === false) {
        this.stopped = true
        this.finished = true
      }
      return
    }
    this.pending = {kind: 'crc', offset: off, at: length, stored, computed, q: off + 1, triedNext: false}
  }

  /** The next accepted record at or after the pending region's cursor, -1 for none, or PAUSED. */
  private resyncStep(pausable: boolean): number {
    const p = this.pending!
    const src = this.src
    while (this.tail < 0 && this.tailScan > this.start) {
      // The zero tail, from the end back, a slice at a time.
      const from = Math.max(this.start, this.tailScan - ZERO_SLICE)
      const end = src.lastNonZeroEnd(from, this.tailScan)
      if (end >= 0) this.tail = end
      else {
        this.tailScan = from
        if (pausable) return PAUSED
      }
    }
    if (this.tail < 0) this.tail = this.start
    if (!p.triedNext) {
      // Damage confined to the record's data leaves the next record in place; try there first.
      p.triedNext = true
      const next = p.offset + RECORD_HEADER_SIZE + p.at
      if (this.accept(next)) return next
    }
    const capacity = this.capacity
    // A candidate's length field holds a non-zero byte, so none starts at or past the zero tail.
    const tail = this.zeroTail()
    const last = Math.min(capacity - RECORD_HEADER_SIZE - 1, tail - 1)
    const half = src.span / 2
    let budget = RESYNC_SLICE
    let q = p.q
    let buf = src.buf
    let base = src.base
    let end = src.end
    // The raw register over [base, q + 8), carried from one candidate to the next: one table step each.
    let ra = 0
    let raAt = -1
    let prefix: CrcPrefix | undefined
    while (q <= last) {
      if (end < capacity && (q < base || q + RECORD_HEADER_SIZE > end || q - base > half)) {
        // Slide by at least half a window, so windows are read at most twice over.
        src.load(q)
        buf = src.buf
        base = src.base
        end = src.end
        raAt = -1
        prefix = undefined
        if (pausable) {
          p.q = q
          return PAUSED
        }
      }
      if (pausable && --budget < 0) {
        p.q = q
        return PAUSED
      }
      const length = u32(buf, q - base)
      if (length === 0) {
        const nz = src.firstNonZero(q + 4, last + 4)
        if (nz < 0) break
        q = Math.max(q + 1, nz - 3)
        continue
      }
      if (length > capacity - q - RECORD_HEADER_SIZE) {
        q++
        continue
      }
      const e = q + RECORD_HEADER_SIZE + length
      if (e + RECORD_HEADER_SIZE <= end && e !== capacity && e < tail) {
        // The common case, all in the window: filter on the next header, then the CRC from prefix registers.
        const next = u32(buf, e - base)
        if (next === 0 || next > capacity - e - RECORD_HEADER_SIZE) {
          q++
          continue
        }
        prefix ??= this.windowPrefix()
        const a = q + RECORD_HEADER_SIZE - base
        ra = raAt === a - 1 ? crcByte(ra, buf[a - 1]) : prefix.register(a)
        raAt = a
        const crc = ~(shiftZeros(~ra, length) ^ prefix.register(e - base)) >>> 0
        if (crc !== u32(buf, q + 4 - base)) {
          q++
          continue
        }
      }
      if (this.accept(q)) return q
      q++
    }
    return -1
  }

  /** A complete record with a matching CRC at `q`, followed by a valid record, the zero tail or the end. */
  private accept(q: number): boolean {
    const capacity = this.capacity
    if (q + RECORD_HEADER_SIZE >= capacity) return false
    const length = this.probe(q)
    if (length <= 0 || length > capacity - q - RECORD_HEADER_SIZE) return false
    const e = q + RECORD_HEADER_SIZE + length
    const ends = e === capacity || e >= this.zeroTail()
    let next = 0
    if (!ends) {
      if (e + RECORD_HEADER_SIZE >= capacity) return false
      next = this.probe(e)
      if (next <= 0 || next > capacity - e - RECORD_HEADER_SIZE) return false
    }
    if (this.rangeCrc(q + RECORD_HEADER_SIZE, e) !== this.probe(q + 4)) return false
    return ends || this.rangeCrc(e + RECORD_HEADER_SIZE, e + RECORD_HEADER_SIZE + next) === this.probe(e + 4)
  }

  /** The u32 at `at`; -1 once the budget for reads outside the window is spent. */
  private probe(at: number): number {
    const src = this.src
    if (at >= src.base && at + 4 <= src.end) return u32(src.buf, at - src.base)
    if (this.farProbes <= 0) return -1
    this.farProbes--
    return src.u32(at)
  }

  /** zlib's crc32 of `[a, e)`: O(1) inside the window, streamed (within budget) outside; -1 past the budget. */
  private rangeCrc(a: number, e: number): number {
    const src = this.src
    if (a >= src.base && e <= src.end) {
      return this.windowPrefix().crc(a - src.base, e - src.base)
    }
    if (e - a > this.farBytes) return -1
    this.farBytes -= e - a
    return src.crc(a, e)
  }

  /** Prefix registers over the loaded window, made again after each load. */
  private windowPrefix(): CrcPrefix {
    const src = this.src
    if (!this.prefix || this.prefixBase !== src.base || this.prefixEnd !== src.end) {
      this.prefix = new CrcPrefix(src.buf, src.end - src.base)
      this.prefixBase = src.base
      this.prefixEnd = src.end
    }
    return this.prefix
  }

  private zeroTail(): number {
    if (this.tail < 0) {
      const end = this.src.lastNonZeroEnd(this.start, this.tailScan)
      this.tail = end < 0 ? this.start : end
    }
    return this.tail
  }

  private endRegion(next: number): void {
    const p = this.pending!
    this.pending = undefined
    const capacity = this.capacity
    let offset = p.offset
    let kind: RecordDamageKind
    let message: string
    let minEnd: number
    if (p.kind === 'zero') {
      minEnd = p.at + 1
      if (next >= 0) {
        kind = 'zero-length'
        message = `zero record length, but non-zero bytes follow at ${p.at} and a valid record at ${next}`
      } else {
        offset = p.at
        kind = 'debris'
        message = `non-zero bytes after the last valid record (which ends at ${this.lastRecordEnd})`
      }
    } else if (p.kind === 'length') {
      const length = p.at
      minEnd = Math.min(capacity, offset + RECORD_HEADER_SIZE)
      if (capacity < this.segmentSize && length <= this.segmentSize - offset - RECORD_HEADER_SIZE) {
        kind = 'partial-record'
        message = `record of ${length} bytes cut by the end of the file at ${capacity}`
      } else {
        kind = 'bad-length'
        message = `record length ${length} runs past the segment's capacity (${capacity - offset - RECORD_HEADER_SIZE} bytes left)`
      }
    } else {
      minEnd = offset + RECORD_HEADER_SIZE + p.at
      kind = 'crc-mismatch'
      message = `record of ${p.at} bytes: stored crc32 ${crcHex(p.stored)}, computed ${crcHex(p.computed)}`
    }
    let end = next
    if (next < 0) {
      // Only a tail region needs its last non-zero byte, known once per segment.
      const tail = this.zeroTail()
      end = Math.min(capacity, Math.max(minEnd, tail > offset ? tail : -1))
    }
    this.report({offset, end, kind, message, hidesRecords: next >= 0})
    if (next < 0) this.finished = true
    else {
      this.off = next
      this.resynced = true
    }
  }

  private report(region: DamagedRegion): void {
    if (this.cleanEnd < 0) this.cleanEnd = this.lastRecordEnd
    this.damage.push(region)
    this.onDamage?.(region)
  }
}

/** Scans records in a source (a Buffer is scanned in memory). */
export function scanRecords(bytes: Buffer | ByteSource, options: RecordScanOptions = {}): RecordScanResult {
  const scanner = new RecordScanner(Buffer.isBuffer(bytes) ? new MemorySource(bytes) : bytes, options)
  scanner.run()
  return scanner.result()
}
