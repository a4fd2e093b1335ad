// Which records and damaged regions a dump shows: positions, segments, byte
// offsets, valid or damaged only, and how many.
import {comparePositions, Position} from '../format/names.js'
import {decodeShardexTransaction, OperationName} from '../format/shardex-transaction.js'

export interface DumpFilter {
  /** First position shown: entries that end at or before it are skipped. */
  from?: Position
  /** Last position shown: entries that start after it are skipped, and the scan stops there. */
  to?: Position
  segments?: ReadonlySet<number>
  /** Only the entry whose byte range holds this offset (in every selected segment). */
  offset?: number
  validOnly?: boolean
  damagedOnly?: boolean
  limit?: number
}

export type Verdict = 'show' | 'skip' | 'past'

export function segmentSelected(f: DumpFilter, id: number): boolean {
  if (f.segments && !f.segments.has(id)) return false
  if (f.from && id < f.from.segment) return false
  if (f.to && id > f.to.segment) return false
  return true
}

/** Whether the entry `[offset, end)` of segment `segment` is shown; `past` once it lies beyond --to. */
export function rangeSelected(f: DumpFilter, segment: number, offset: number, end: number): Verdict {
  if (f.to && comparePositions({segment, offset}, f.to) > 0) return 'past'
  if (!segmentSelected(f, segment)) return 'skip'
  if (f.from && comparePositions({segment, offset: end}, f.from) <= 0 && !(segment === f.from.segment && offset === f.from.offset)) return 'skip'
  if (f.offset !== undefined && !(offset <= f.offset && (f.offset < end || (end === offset && f.offset === offset)))) return 'skip'
  return 'show'
}

/** True when the filter can only ever match a subset of segments known in advance. */
export function hasSegmentBounds(f: DumpFilter): boolean {
  return f.segments !== undefined || f.from !== undefined || f.to !== undefined
}

/** --op: whether a payload is a Shardex transaction holding one of these operations. */
export function holdsOperation(data: Buffer, ops: ReadonlySet<OperationName>): boolean {
  const d = decodeShardexTransaction(data)
  return d.ok && d.transaction.operations.some((o) => ops.has(o.op))
}
