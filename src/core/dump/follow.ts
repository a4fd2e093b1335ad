// --follow: after the dump, poll the WAL for records appended to the newest
// segment and for new segments, and pass them on as they appear. Damage at
// the tail of the segment being written may be a record still in flight, so
// it is shown only once something valid follows it or the segment is left
// for a newer one. Read-only, like the rest of the dump.
import * as fs from 'node:fs'
import {listWal, resolveWalDir} from '../read/directory.js'
import {readAt} from '../fs/files.js'
import {FIRST_RECORD_OFFSET, MAGIC} from '../format/format.js'
import {checkHeader, headerProblemMessage, headerProblemSeverity} from '../format/header-check.js'
import {FileWindow} from '../read/file-window.js'
import {scanRecords} from '../format/records.js'
import {Problem, SegmentSummary, Verdict} from '../read/scan.js'
import {DumpFilter, rangeSelected, segmentSelected} from './filters.js'
import {DumpTarget, DumpVisitor, problemToDamage} from './walk.js'

/** Bytes read past the last record on each poll; doubled while a longer record is still being written. */
const FIRST_WINDOW = 1 << 20

export interface FollowFrom {
  id: number
  file: string
  lastRecordEnd: number
  resynced: boolean
  /** Damage before this offset was already shown by the dump. */
  damageEnd: number
}

export interface FollowOptions {
  intervalMs: number
  /** Resolves after `ms`, or sooner when the follow should end. */
  sleep(ms: number): Promise<void>
  stopped(): boolean
  /** Entries shown before following began, counted against --limit. */
  shown: number
  /** Called after each poll that showed something. */
  flush(): void
  segmentSize?: number
}

interface Cursor {
  id: number
  file: string
  resumeAt: number
  window: number
  resynced: boolean
  shownDamageEnd: number
  /** Opened by the follow (so its end is reported here). */
  own: boolean
  summary: SegmentSummary
}

export interface FollowResult {
  records: number
  damaged: number
  /** Ended by --limit or --to rather than by an interrupt. */
  stopped: boolean
}

function newSummary(id: number, file: string, size: number): SegmentSummary {
  return {id, file, size, records: 0, payloadBytes: 0, cleanEnd: FIRST_RECORD_OFFSET, lastRecordEnd: FIRST_RECORD_OFFSET, resyncedRecords: 0, damagedBytes: 0, verdict: 'clean'}
}

function worse(a: Verdict, b: Verdict): Verdict {
  const rank = {clean: 0, repairable: 1, damaged: 2}
  return rank[a] >= rank[b] ? a : b
}

export async function followWal(target: DumpTarget, from: FollowFrom | undefined, filter: DumpFilter, visitor: DumpVisitor, o: FollowOptions): Promise<FollowResult> {
  const result: FollowResult = {records: 0, damaged: 0, stopped: false}
  const limit = filter.limit ?? Infinity
  let shown = o.shown
  let buf: Buffer = Buffer.alloc(0)
  let cur: Cursor | undefined = from && {id: from.id, file: from.file, resumeAt: from.lastRecordEnd, window: FIRST_WINDOW, resynced: from.resynced, shownDamageEnd: from.damageEnd, own: false, summary: newSummary(from.id, from.file, 0)}
  let progressed = false

  /** Scans the cursor's segment from where it left off; `final` when a newer segment exists. */
  const scanPiece = (c: Cursor, final: boolean): void => {
    let fd: number
    try {
      fd = fs.openSync(c.file, 'r')
    } catch {
      return // removed (gc) or not readable now: try again at the next poll
    }
    try {
      scanOpen(c, final, fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  /** The segment's bytes from where the cursor left off, through one bounded window (reused between polls). */
  const scanOpen = (c: Cursor, final: boolean, fd: number): void => {
    const size = fs.fstatSync(fd).size
    const capacity = final ? size : Math.min(size, c.resumeAt + c.window)
    if (capacity <= c.resumeAt) return
    const src = new FileWindow(fd, capacity, c.file, buf)
    buf = src.buf
    src.load(c.resumeAt)
    c.summary.size = size
    let deferred = false
    let past = false
    const scan = scanRecords(src, {
      start: c.resumeAt,
      capacity,
      segmentSize: final ? size : Math.max(size, capacity),
      onRecord: (offset, length, crc, resynced) => {
        if (shown >= limit) return false
        const v = rangeSelected(filter, c.id, offset, offset + 8 + length)
        if (v === 'past') {
          past = true
          return false
        }
        c.summary.records++
        c.summary.payloadBytes += length
        c.summary.lastRecordEnd = offset + 8 + length
        const rs = resynced || c.resynced
        if (rs) c.summary.resyncedRecords++
        if (v === 'show' && !filter.damagedOnly) {
          shown++
          result.records++
          progressed = true
          visitor.record?.({segment: c.id, file: c.file, offset, length, crc32: crc, resynced: rs, data: src.bytes(offset + 8, offset + 8 + length)})
        }
      },
      onDamage: (d) => {
        if (!final && !d.hidesRecords) {
          deferred = true
          return
        }
        c.resynced = true
        if (d.offset < c.shownDamageEnd) return
        c.shownDamageEnd = d.end
        c.summary.damagedBytes += d.end - d.offset
        c.summary.verdict = worse(c.summary.verdict, d.hidesRecords ? 'damaged' : 'repairable')
        if (filter.validOnly || shown >= limit || rangeSelected(filter, c.id, d.offset, d.end) !== 'show') return
        shown++
        result.damaged++
        progressed = true
        visitor.damage?.({segment: c.id, file: c.file, offset: d.offset, end: d.end, kind: d.kind, severity: d.hidesRecords ? 'damaged' : 'repairable', message: d.message})
      },
    })
    if (scan.lastRecordEnd > c.resumeAt) {
      c.resumeAt = scan.lastRecordEnd
      c.window = FIRST_WINDOW
    } else if (deferred && capacity < size) {
      c.window *= 2
    }
    if (past || shown >= limit) result.stopped = true
  }

  const endSegment = (c: Cursor): void => {
    if (c.own) visitor.segmentEnd?.(c.summary)
  }

  /** Opens a new segment: false when its header is not written yet. */
  const open = (id: number, file: string, mayWait: boolean): boolean => {
    let head: Buffer
    let size: number
    let excessIsZero = false
    try {
      const fd = fs.openSync(file, 'r')
      try {
        size = fs.fstatSync(fd).size
        head = readAt(fd, 0, FIRST_RECORD_OFFSET)
        // As the scanner rates a longer file: repairable only when what lies past the segment size is zeros.
        if (o.segmentSize !== undefined && size > o.segmentSize) excessIsZero = new FileWindow(fd, size, file, undefined, 0).lastNonZeroEnd(o.segmentSize, size) < 0
      } finally {
        fs.closeSync(fd)
      }
    } catch {
      return false
    }
    if (mayWait && (head.length < FIRST_RECORD_OFFSET || !head.subarray(0, MAGIC.length).equals(MAGIC))) return false
    const {header, problems} = checkHeader(head, size, {segmentSize: o.segmentSize})
    const summary = newSummary(id, file, size)
    if (segmentSelected(filter, id)) {
      const full: Problem[] = problems.map((p) => ({segment: id, file, offset: p.offset, kind: p.kind, severity: headerProblemSeverity(p.kind, {fileSize: size, segmentSize: o.segmentSize ?? size, excessIsZero}), message: headerProblemMessage(p)}))
      visitor.segment?.({id, file, size, header, problems: full})
      for (const p of full) {
        if (p.severity === 'warning') visitor.warning?.(p)
        else if (!filter.validOnly && shown < limit) {
          shown++
          result.damaged++
          visitor.damage?.(problemToDamage(p, size))
        }
      }
    }
    cur = {id, file, resumeAt: FIRST_RECORD_OFFSET, window: FIRST_WINDOW, resynced: false, shownDamageEnd: 0, own: segmentSelected(filter, id), summary}
    progressed = true
    return true
  }

  while (!o.stopped() && !result.stopped) {
    progressed = false
    const newer = target.file ? [] : listSegments(target).filter((s) => s.id > (cur?.id ?? 0))
    if (cur) {
      scanPiece(cur, newer.length > 0)
      if (newer.length > 0) endSegment(cur)
    }
    for (let i = 0; i < newer.length && !result.stopped; i++) {
      const s = newer[i]
      const last = i === newer.length - 1
      if (!open(s.id, s.path, last)) break
      if (cur && segmentSelected(filter, s.id)) scanPiece(cur, !last)
      if (!last && cur) endSegment(cur)
    }
    if (progressed) o.flush()
    if (result.stopped) break
    await o.sleep(o.intervalMs)
  }
  return result
}

/** The WAL's segments now; until the first appears, the input is resolved again (an index root may gain its wal/). */
function listSegments(target: DumpTarget) {
  try {
    let segments = listWal(target.dir).segments
    if (segments.length === 0) {
      const dir = resolveWalDir(target.input)
      if (dir !== target.dir) {
        target.dir = dir
        segments = listWal(dir).segments
      }
    }
    return segments
  } catch {
    return []
  }
}
