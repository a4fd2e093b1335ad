// What a dump's filters name must exist (a segment, a position, a byte of a
// file), said in one line with what does exist; and --since/--until turned
// into the segments whose header timestamps cover that time.
import * as fs from 'node:fs'
import {listWal, SegmentFile} from '../read/directory.js'
import {ExitCode, WalError} from '../errors.js'
import {decodeHeader, FIRST_RECORD_OFFSET, MAGIC} from '../format/format.js'
import {formatMicros} from '../format/header-check.js'
import {comparePositions, formatPosition, segmentFileName} from '../format/names.js'
import {SegmentSummary} from '../read/scan.js'
import {parseDuration} from '../format/units.js'
import {SegmentBytes} from './segment-bytes.js'
import {DumpFilter, segmentSelected} from './filters.js'
import {DumpTarget} from './walk.js'

/** The segment files a dump can read, with their sizes, in id order. */
export function dumpFiles(target: DumpTarget): SegmentFile[] {
  if (!target.file) return listWal(target.dir).segments
  let size = 0
  try {
    size = fs.statSync(target.file).size
  } catch {
    // resolveDumpTarget has just seen it; a file gone since is the walk's error to report.
  }
  return [{id: target.segmentIds[0], name: target.file, path: target.file, size}]
}

/** `wal_000001.log..wal_000005.log, wal_000007.log`: runs of consecutive ids, at most a few. */
export function describeFiles(target: DumpTarget, files: readonly SegmentFile[]): string {
  if (target.file) return `${target.file} is segment ${target.segmentIds[0]}`
  if (files.length === 0) return 'the WAL has no segments'
  const runs: string[] = []
  let start = files[0].id
  for (let i = 1; i <= files.length; i++) {
    if (i < files.length && files[i].id === files[i - 1].id + 1) continue
    const end = files[i - 1].id
    runs.push(start === end ? segmentFileName(start) : `${segmentFileName(start)}..${segmentFileName(end)}`)
    if (i < files.length) start = files[i].id
  }
  const shown = runs.length > 4 ? [...runs.slice(0, 2), `… ${runs.length - 3} more runs …`, runs[runs.length - 1]] : runs
  return `the WAL has ${shown.join(', ')}`
}

function noInput(target: DumpTarget, reason: string, files: readonly SegmentFile[], offset?: number): never {
  throw new WalError(ExitCode.NO_INPUT, `${reason}: ${describeFiles(target, files)}`, {file: target.file ?? target.dir, offset})
}

/**
 * Refuses (exit 66) a filter that names what is not there: a segment id, a
 * --from or --to beyond the WAL, an offset past the end of every selected
 * file, or a combination that selects no segment at all; 64 for --from after
 * --to. Under --follow what is not there yet may come: only the order is checked.
 */
export function checkSelection(target: DumpTarget, files: readonly SegmentFile[], filter: DumpFilter, o: {time?: {ids: ReadonlySet<number>; window: string}; follow?: boolean} = {}): void {
  const {time} = o
  const ids = new Set(files.map((f) => f.id))
  if (filter.from && filter.to && comparePositions(filter.from, filter.to) > 0) {
    throw new WalError(ExitCode.USAGE, `--from ${formatPosition(filter.from)} is after --to ${formatPosition(filter.to)}`)
  }
  if (o.follow) return
  for (const id of filter.segments ?? []) {
    if (!ids.has(id)) noInput(target, `no segment ${id}`, files)
  }
  if (files.length === 0) return
  const first = files[0]
  const last = files[files.length - 1]
  if (filter.from) {
    const at = files.find((f) => f.id === filter.from!.segment)
    if (filter.from.segment > last.id) noInput(target, `no segment ${filter.from.segment} (--from ${formatPosition(filter.from)})`, files)
    if (at && filter.from.offset > at.size) noInput(target, `--from ${formatPosition(filter.from)} is past the end of ${segmentFileName(at.id)} (${at.size} bytes)`, files)
  }
  if (filter.to && filter.to.segment < first.id) noInput(target, `no segment at or before ${filter.to.segment} (--to ${formatPosition(filter.to)})`, files)
  const selected = files.filter((f) => segmentSelected(filter, f.id) && (!time || time.ids.has(f.id)))
  if (selected.length === 0) noInput(target, time ? `no selected segment holds records written in ${time.window}` : 'the filters select no segment', files)
  if (filter.offset !== undefined && selected.every((f) => filter.offset! >= f.size)) {
    const big = selected.reduce((a, b) => (b.size > a.size ? b : a))
    const which = selected.length === 1 ? `${segmentFileName(big.id)} (${big.size} bytes)` : `every selected segment (the largest, ${segmentFileName(big.id)}, is ${big.size} bytes)`
    throw new WalError(ExitCode.NO_INPUT, `--offset ${filter.offset} is past the end of ${which}`, {file: target.file ?? big.path})
  }
}

/** Microseconds since the epoch for an ISO 8601 time, or for a duration ago (`2h`, `30m`). */
export function parseTime(text: string, nowMs = Date.now()): bigint | undefined {
  const ago = parseDuration(text)
  if (ago !== undefined) return BigInt(nowMs - ago) * 1000n
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined
  const ms = Date.parse(text.trim())
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n
}

/**
 * The segments that may hold records written in `[since, until]`. Shardex
 * never updates modified_at, so a segment holds what was written from its
 * created_at until the next segment's; the newest one until now. A segment
 * whose header cannot be read is kept: it may hold the records asked for.
 */
export function segmentsInTime(files: readonly SegmentFile[], since: bigint | undefined, until: bigint | undefined, nowUs = BigInt(Date.now()) * 1000n): Set<number> {
  const bytes = new SegmentBytes()
  try {
    const created = files.map((f) => {
      const head = f.size >= FIRST_RECORD_OFFSET ? bytes.read(f.path, 0, FIRST_RECORD_OFFSET).bytes : undefined
      if (!head || head.length < FIRST_RECORD_OFFSET) return undefined
      const h = decodeHeader(head)
      return h.magic.equals(MAGIC) ? h.createdAtUs : undefined
    })
    const out = new Set<number>()
    files.forEach((f, i) => {
      const start = created[i]
      if (start === undefined) {
        out.add(f.id)
        return
      }
      const next = created.slice(i + 1).find((c) => c !== undefined)
      // The newest segment is written until now (or until its own time, if that is in the future).
      const end = next !== undefined && next > start ? next : i === files.length - 1 ? (nowUs > start ? nowUs + 1n : start + 1n) : undefined
      if (until !== undefined && start > until) return
      if (since !== undefined && end !== undefined && end <= since) return
      out.add(f.id)
    })
    return out
  } finally {
    bytes.close()
  }
}

/** `2026-01-01T00:00:00.000Z..2026-01-02T00:00:00.000Z`, for messages. */
export function describeTimeWindow(since: bigint | undefined, until: bigint | undefined): string {
  return `${since === undefined ? '' : formatMicros(since)}..${until === undefined ? '' : formatMicros(until)}`
}

/**
 * Why no record or damaged region holds `offset` in a segment that has the
 * byte: its header, the unwritten rest, or an entry the other filters leave out.
 */
export function explainOffset(offset: number, s: SegmentSummary): WalError {
  const reason = offset < FIRST_RECORD_OFFSET
    ? `in the segment header (0..${FIRST_RECORD_OFFSET}), which holds no record: see it with --format table or hex, without --offset`
    : offset >= s.lastRecordEnd
      ? `no record or damaged region holds it: the records end at ${s.lastRecordEnd}, and ${s.lastRecordEnd}..${s.size} is unwritten`
      : 'the record or region holding it is left out by the other filters (--valid-only, --damaged-only, --op)'
  return new WalError(ExitCode.NO_INPUT, reason, {file: s.file, offset})
}
