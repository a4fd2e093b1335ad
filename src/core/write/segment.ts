// One segment file: created preallocated, mapped with mmap-io, appended to
// through the mapping and flushed with msync.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {mmap} from './mmap.js'
import {crc32View} from '../format/crc.js'
import {CorruptionError, ExitCode, fsError, WalError} from '../errors.js'
import {createFileAtomic, CreateFileOptions, placePrepared, readAt, removeQuietly, TempFile, writeAt} from '../fs/files.js'
import {
  encodeHeader, FIRST_RECORD_OFFSET, MAX_SEGMENT_SIZE, maxPayloadSize, MIN_SEGMENT_SIZE, nowMicros,
  RECORD_HEADER_SIZE, SegmentHeader,
} from '../format/format.js'
import {checkHeader, isFatalHeaderProblem} from '../format/header-check.js'
import {parseSegmentFileName, segmentFileName} from '../format/names.js'
import {DamagedRegion, scanRecords} from '../format/records.js'

const PAGE = mmap.PAGESIZE
// Read once: under a loader that turns imports into getters (tsx), a per-record read of an import costs a call.
const HEAD: number = RECORD_HEADER_SIZE
const crcOf = crc32View
const ZERO_CHUNK = 1024 * 1024
/**
 * madvise(MADV_POPULATE_WRITE), Linux 5.14+: makes a range of the mapping
 * writable in one call. A first write to each page of a shared file mapping
 * otherwise traps once per page, and here that trap costs more than the copy
 * and CRC of the records on it (docs/PERFORMANCE.md).
 */
const MADV_POPULATE_WRITE = 23
const MADV_POPULATE_READ = 22
/** madvise(MADV_DONTNEED) on a shared file mapping: unmaps its pages (dirty ones stay dirty in the page cache). */
const MADV_DONTNEED = 4
const POPULATE_FIRST = 256 * 1024
const POPULATE_MAX = 8 * 1024 * 1024

function populateRead(map: Buffer): void {
  try {
    mmap.advise(map, MADV_POPULATE_READ as never)
  } catch {
    // Older kernel: pages fault in as the scan reads them.
  }
}

export interface OpenSegmentOptions {
  readOnly?: boolean
}

export function checkSegmentSize(size: number, what = 'segment size'): void {
  if (!Number.isSafeInteger(size) || size < MIN_SEGMENT_SIZE) {
    throw new WalError(ExitCode.USAGE, `${what} ${size} is too small: a segment needs at least ${MIN_SEGMENT_SIZE} bytes (an ${FIRST_RECORD_OFFSET}-byte header and one record of 1 byte)`)
  }
  if (size > MAX_SEGMENT_SIZE) {
    throw new WalError(ExitCode.USAGE, `${what} ${size} is too large: walctl writes segments of at most ${MAX_SEGMENT_SIZE} bytes (1 GiB)`)
  }
}

/** A segment no record fits in: appending would compute a negative room; recover can give it a size. */
function tooSmallToAppend(file: string, size: number, id: number): WalError {
  return new WalError(ExitCode.DATA, `segment is ${size} bytes, too small to hold any record (a segment needs at least ${MIN_SEGMENT_SIZE}); refusing to append: give the WAL its segment size with 'walctl recover DIR --segment-size SIZE'`, {file, segment: id})
}

/**
 * A sparse segment (made with set_len, truncate or a sparse copy) has no
 * blocks behind its holes. A write through the mapping into a hole on a full
 * disk is a SIGBUS that kills the process with nothing said and the lock left,
 * and on tmpfs even a read through the mapping allocates. So before a sparse
 * segment is mapped, its holes get blocks: every all-zero page (a hole reads
 * as one) is written with zeros by an ordinary pwrite, which fails with ENOSPC
 * as an error instead. Pages holding any record byte are never written; the
 * content does not change, so a crash half-way is harmless.
 */
function allocateHoles(fd: number, file: string, id: number, size: number): void {
  const st = fs.fstatSync(fd)
  if (st.blocks * 512 >= size) return
  const chunk = Buffer.allocUnsafe(Math.min(ZERO_CHUNK, size))
  const zeros = Buffer.alloc(chunk.length)
  try {
    for (let pos = 0; pos < size; ) {
      const n = readAt(fd, pos, Math.min(chunk.length, size - pos), chunk).length
      if (n === 0) break
      // Runs of all-zero pages, each written back as zeros.
      let run = -1
      for (let at = 0; at < n + PAGE; at += PAGE) {
        const to = Math.min(n, at + PAGE)
        const zero = at < n && chunk.subarray(at, to).equals(zeros.subarray(0, to - at))
        if (zero && run < 0) run = at
        if (!zero && run >= 0) {
          const end = Math.min(n, at)
          writeAt(fd, zeros.subarray(0, end - run), pos + run)
          run = -1
        }
      }
      pos += n
    }
    fs.fdatasyncSync(fd)
  } catch (error) {
    const e = fsError(error, file, 'allocate the blocks of this sparse segment before mapping it')
    // The message already names the file; `file` stays off the options so that it is not named twice.
    throw new WalError(e.exitCode, `${e.message}; nothing was appended to it, its last durable record ends at offset ${cleanEndOf(fd)}`, {segment: id, cause: error})
  }
}

/** The write pointer a scan of the file finds, read with pread (no mapping: the disk is full). */
function cleanEndOf(fd: number): number {
  try {
    return scanRecords(readAt(fd, 0, fs.fstatSync(fd).size)).cleanEnd
  } catch {
    return FIRST_RECORD_OFFSET
  }
}

export class WalSegment {
  readonly id: number
  readonly path: string
  readonly capacity: number
  readonly readOnly: boolean
  readonly header: SegmentHeader
  /** Damage found past the clean end on a read-only open (a read-write open refuses it). */
  readonly damage: DamagedRegion[]
  private map: Buffer | undefined
  /** Kept open while writable: what a background fdatasync (detach) needs, with no second open by name. -1 once closed or read-only. */
  private fd: number
  /** The mapping as a DataView: record headers and the CRC's 32-bit reads. */
  private view: DataView | undefined
  private wp: number
  private syncedTo: number
  private readonly maxLength: number
  /** End of the range already populated writable; appends past it populate the next window first. */
  private populatedTo: number
  private populateWindow = POPULATE_FIRST
  /** Where the append path leaves its fast path: the populated end, or the watermark if nearer. */
  private checkAt: number
  private watermark = Number.POSITIVE_INFINITY
  private onWatermark: (() => void) | undefined

  private constructor(file: string, id: number, fd: number, map: Buffer, header: SegmentHeader, writePointer: number, readOnly: boolean, damage: DamagedRegion[]) {
    this.path = file
    this.id = id
    this.fd = fd
    this.map = map
    this.view = new DataView(map.buffer, map.byteOffset, map.length)
    this.capacity = map.length
    this.header = header
    this.wp = writePointer
    this.syncedTo = writePointer
    this.readOnly = readOnly
    this.damage = damage
    this.maxLength = maxPayloadSize(this.capacity)
    this.populatedTo = readOnly ? this.capacity : Math.floor(writePointer / PAGE) * PAGE
    this.checkAt = readOnly ? -1 : this.populatedTo
  }

  /**
   * Calls `f` once, from the append that takes the write pointer past
   * `offset` (at once if it is there already): the manager starts preparing
   * the next segment from it. Checked only where the append path already
   * leaves its fast path, so it costs nothing per record.
   */
  setWatermark(offset: number, f: () => void): void {
    if (this.wp >= offset) {
      f()
      return
    }
    this.watermark = offset
    this.onWatermark = f
    if (!this.readOnly && this.map) this.checkAt = Math.min(this.populatedTo, offset)
  }

  /**
   * Creates `wal_{id}.log` in `dir`, preallocated to `size` bytes, atomically, then opens it for appending.
   * `options.like` names the segment whose owner, group and mode it takes (warnings go to `options.warnings`).
   */
  static create(dir: string, id: number, size: number, createdAtUs: bigint = nowMicros(), options: CreateFileOptions = {}): WalSegment {
    checkSegmentSize(size)
    const file = path.join(dir, segmentFileName(id))
    createFileAtomic(file, encodeHeader(createdAtUs), size, options)
    // Just written as a header and zeros: nothing to scan for (a scan of 64 MiB of zeros costs more than the create).
    return WalSegment.load(file, {}, true)
  }

  /**
   * Puts a prepared segment (a temporary whose every block the pipeline has
   * written with zeros) in place as `file` and opens it for appending: the
   * header is written into its mapping and only that page synced, then the
   * file takes its name. The zeros are not synced on their own: the seal
   * writes each page back once, with its records. The temporary's fd becomes
   * the segment's; on failure it is closed and the temporary removed.
   */
  static installPrepared(prepared: TempFile, file: string, createdAtUs: bigint = nowMicros()): WalSegment {
    const {fd, temp} = prepared
    const id = parseSegmentFileName(path.basename(file)) ?? 0
    const head = encodeHeader(createdAtUs)
    let map: Buffer
    try {
      try {
        map = mmap.map(fs.fstatSync(fd).size, (mmap.PROT_READ | mmap.PROT_WRITE) as 3, mmap.MAP_SHARED, fd, 0, mmap.MADV_SEQUENTIAL)
        map.set(head, 0)
        mmap.sync(map, 0, head.length, true, false)
      } catch (error) {
        throw fsError(error, temp, 'write the header of a prepared segment', ExitCode.IO)
      }
      placePrepared(prepared, file)
    } catch (error) {
      fs.closeSync(fd)
      removeQuietly(temp)
      throw error
    }
    const {header} = checkHeader(head, map.length)
    return new WalSegment(file, id, fd, map, header!, FIRST_RECORD_OFFSET, false, [])
  }

  /**
   * Opens a segment and recovers its write pointer by scanning. The header must
   * be one Shardex would open. Read-write refuses a segment with damaged
   * records (appending after them would hide them); read-only keeps going and
   * lists the damage.
   */
  static open(file: string, options: OpenSegmentOptions = {}): WalSegment {
    return WalSegment.load(file, options, false)
  }

  private static load(file: string, options: OpenSegmentOptions, fresh: boolean): WalSegment {
    const readOnly = options.readOnly ?? false
    const id = parseSegmentFileName(path.basename(file)) ?? 0
    let fd: number
    try {
      fd = fs.openSync(file, readOnly ? 'r' : 'r+')
    } catch (error) {
      throw fsError(error, file, readOnly ? 'open for reading' : 'open for writing')
    }
    try {
      const size = fs.fstatSync(fd).size
      const head = readAt(fd, 0, FIRST_RECORD_OFFSET)
      const {header, problems} = checkHeader(head, size)
      const fatal = problems.find((p) => isFatalHeaderProblem(p.kind))
      if (fatal || !header) {
        const p = fatal ?? problems[0]
        throw new CorruptionError(`not a valid WAL segment: ${p.message}`, {file, offset: p.offset, segment: id})
      }
      if (!readOnly && size > MAX_SEGMENT_SIZE) checkSegmentSize(size, `${file}: file size`)
      if (!readOnly && size < MIN_SEGMENT_SIZE) throw tooSmallToAppend(file, size, id)
      if (!readOnly && !fresh) allocateHoles(fd, file, id, size)
      let map: Buffer
      try {
        map = mmap.map(size, readOnly ? mmap.PROT_READ : ((mmap.PROT_READ | mmap.PROT_WRITE) as 3), mmap.MAP_SHARED, fd, 0, mmap.MADV_SEQUENTIAL)
      } catch (error) {
        throw fsError(error, file, 'map into memory')
      }
      // The scan reads every byte up to the end (zeros included, to tell a clean end from debris):
      // map it all in one call (MADV_POPULATE_READ, Linux 5.14+) rather than a fault per few pages.
      if (!fresh) populateRead(map)
      const scan = fresh ? {cleanEnd: FIRST_RECORD_OFFSET, damage: [] as DamagedRegion[]} : scanRecords(map)
      if (!readOnly && scan.damage.length > 0) {
        const d = scan.damage[0]
        throw new CorruptionError(`${d.kind}: ${d.message}; refusing to append after damage (run 'walctl verify' and 'walctl recover')`, {file, offset: d.offset, segment: id})
      }
      const seg = new WalSegment(file, id, readOnly ? -1 : fd, map, header, scan.cleanEnd, readOnly, scan.damage)
      if (readOnly) fs.closeSync(fd)
      return seg
    } catch (error) {
      fs.closeSync(fd)
      throw error
    }
  }

  get writePointer(): number {
    return this.wp
  }

  get remaining(): number {
    return this.capacity - this.wp
  }

  /** Full exactly when the write pointer is at the capacity, as Shardex defines it. */
  get isFull(): boolean {
    return this.wp === this.capacity
  }

  get maxPayload(): number {
    return maxPayloadSize(this.capacity)
  }

  /** Whether a payload of `length` bytes fits in what is left. */
  fits(length: number): boolean {
    return HEAD + length <= this.capacity - this.wp
  }

  private buffer(): Buffer {
    if (!this.map) throw new WalError(ExitCode.IO, 'segment is closed', {file: this.path})
    return this.map
  }

  /** Appends one record and returns its record offset. The write pointer moves only once the bytes are in place. */
  append(data: Uint8Array): number {
    return this.appendRange(data, 0, data.length)
  }

  /** Appends `src[start, end)` as one record (no view of it is made); returns its record offset. */
  appendRange(src: Uint8Array, start: number, end: number): number {
    const length = end - start
    const at = this.wp
    const next = at + HEAD + length
    // One test on the fast path: checkAt is -1 when read-only or closed, and never past the capacity.
    if (length <= 0 || next > this.checkAt) this.slowPath(length, next)
    const buf = this.map!
    buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), at + HEAD)
    // Checksummed where it now lies, through the segment's view (crc.ts crc32View).
    const view = this.view!
    view.setInt32(at + 4, crcOf(view, buf, at + HEAD, next), true)
    view.setInt32(at, length, true)
    this.wp = next
    return at
  }

  /** Throws the reason an append cannot be made; kept out of append() so that stays small enough to inline. */
  private refuse(length: number): never {
    if (this.readOnly) throw new WalError(ExitCode.USAGE, 'segment is open read-only', {file: this.path})
    if (length <= 0) throw new WalError(ExitCode.DATA, 'refusing an empty record: Shardex never writes a zero length', {file: this.path, offset: this.wp})
    if (length > this.maxLength) {
      throw new WalError(ExitCode.DATA, `record of ${length} bytes is larger than a segment of ${this.capacity} bytes can hold (at most ${this.maxLength})`, {file: this.path})
    }
    if (!this.fits(length)) throw new WalError(ExitCode.DATA, `record of ${length} bytes does not fit: ${this.remaining} bytes left`, {file: this.path, offset: this.wp})
    return this.buffer() as never
  }

  private slowPath(length: number, next: number): void {
    if (this.readOnly || !this.map || length <= 0 || next > this.capacity) this.refuse(length)
    if (next > this.populatedTo) this.populate(next)
    if (next > this.watermark) {
      const f = this.onWatermark
      this.watermark = Number.POSITIVE_INFINITY
      this.onWatermark = undefined
      f?.()
    }
    this.checkAt = Math.min(this.populatedTo, this.watermark)
  }

  /** Populates the mapping writable up to at least `end`, a growing window at a time. */
  private populate(end: number): void {
    const from = this.populatedTo
    const to = Math.min(this.capacity, Math.ceil(Math.max(end, from + this.populateWindow) / PAGE) * PAGE)
    this.populateWindow = Math.min(POPULATE_MAX, this.populateWindow * 2)
    try {
      mmap.advise(this.map!, from, to - from, MADV_POPULATE_WRITE as never)
      this.populatedTo = to
    } catch {
      // An older kernel (EINVAL) or no memory for the page tables now: pages then fault in one by one as they are written.
      this.populatedTo = this.capacity
    }
  }

  /** Flushes what was appended since the last sync (msync, blocking). */
  sync(): void {
    if (this.readOnly || this.wp === this.syncedTo || !this.map) return
    const from = Math.floor(this.syncedTo / PAGE) * PAGE
    try {
      mmap.sync(this.map, from, this.wp - from, true, false)
    } catch (error) {
      throw fsError(error, this.path, 'msync')
    }
    this.syncedTo = this.wp
  }

  /** Bytes synced so far (the write pointer at the last sync). */
  get syncedPointer(): number {
    return this.syncedTo
  }

  /** The mapped bytes, for readers in this process. */
  bytes(): Buffer {
    return this.buffer()
  }

  /** Syncs and drops the mapping; it is unmapped once the Buffer is collected. */
  close(): void {
    if (!this.map) return
    try {
      this.sync()
    } finally {
      this.drop()
      this.closeFd()
    }
  }

  /**
   * Drops the mapping without syncing it and hands over the open descriptor,
   * whose fdatasync then makes every record appended here durable (a
   * rotation's seal, run off the append path by the segment pipeline); -1
   * when nothing appended is left unsynced. The pages are unmapped first, so
   * that writeback finds none of this process's to write-protect: a mapped
   * page costs a TLB shootdown each (an interrupt of the other core, and in a
   * virtual machine an exit), the most of a rotation's msync here.
   */
  detach(): number {
    if (!this.map) return -1
    const unsynced = !this.readOnly && this.wp !== this.syncedTo
    try {
      if (unsynced) mmap.advise(this.map, MADV_DONTNEED as never)
    } catch {
      // Pages stay mapped: writeback then write-protects them one by one, slower but the same.
    }
    this.drop()
    if (!unsynced) {
      this.closeFd()
      return -1
    }
    const fd = this.fd
    this.fd = -1
    return fd
  }

  private drop(): void {
    this.map = undefined
    this.view = undefined
    this.checkAt = -1
  }

  private closeFd(): void {
    if (this.fd < 0) return
    const fd = this.fd
    this.fd = -1
    fs.closeSync(fd)
  }
}
