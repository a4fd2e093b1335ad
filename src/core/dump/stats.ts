// --stats: what a WAL holds, per segment and in total, gathered from the
// dump's stream (so the filters apply) in constant memory.
import {SegmentSummary} from '../read/scan.js'
import {decodeShardexTransaction, OPERATION_NAMES, OperationName, operationSize, TX_FRAMING_SIZE} from '../format/shardex-transaction.js'
import {RECORD_HEADER_SIZE} from '../format/format.js'
import {DumpDamage, DumpRecord, DumpSegment, DumpVisitor} from './walk.js'

export interface SizeBucket {
  /** Payload sizes in `[min, max]`: powers of two. */
  min: number
  max: number
  records: number
}

export interface SegmentStats {
  segment: number
  file: string
  size: number
  records: number
  resyncedRecords: number
  payloadBytes: number
  /** End of the last valid record over the file size. */
  fill: number
  damagedRegions: number
  damagedBytes: number
  first: string | null
  last: string | null
  histogram: SizeBucket[]
  verdict?: string
}

export interface DumpStats {
  segments: SegmentStats[]
  total: Omit<SegmentStats, 'segment' | 'file' | 'verdict'> & {segments: number}
  /** --decode shardex: counts and bytes by operation, as pg_waldump --stats=record per record type. */
  operations?: OperationStats
}

export interface OperationRow {
  op: OperationName
  /** Operations of this kind. */
  count: number
  /** Transactions holding at least one. */
  transactions: number
  /** Their bincode bytes: variant tag, document id and fields. */
  bytes: number
}

export interface OperationStats {
  operations: OperationRow[]
  transactions: number
  /** Each transaction's 48-byte header and the 8-byte length of its operations. */
  framingBytes: number
  /** Payloads that are not a Shardex transaction. */
  undecoded: {records: number; bytes: number}
  /** 8 bytes a record. */
  recordHeaderBytes: number
  /** Every byte of the records counted: the rows above add up to it. */
  totalBytes: number
}

/** Counts Shardex operations from the records it is given; undecodable payloads apart. */
export class OperationCounter {
  private readonly rows = new Map<OperationName, OperationRow>(OPERATION_NAMES.map((op) => [op, {op, count: 0, transactions: 0, bytes: 0}]))
  private readonly totals = {transactions: 0, framingBytes: 0, undecoded: {records: 0, bytes: 0}, recordHeaderBytes: 0, totalBytes: 0}

  add(data: Buffer): void {
    const t = this.totals
    t.recordHeaderBytes += RECORD_HEADER_SIZE
    t.totalBytes += RECORD_HEADER_SIZE + data.length
    const d = decodeShardexTransaction(data)
    if (!d.ok) {
      t.undecoded.records++
      t.undecoded.bytes += data.length
      return
    }
    t.transactions++
    t.framingBytes += TX_FRAMING_SIZE
    const seen = new Set<OperationName>()
    for (const o of d.transaction.operations) {
      const row = this.rows.get(o.op)!
      row.count++
      row.bytes += operationSize(o)
      if (!seen.has(o.op)) row.transactions++
      seen.add(o.op)
    }
  }

  result(): OperationStats {
    return {operations: [...this.rows.values()], ...this.totals, undecoded: {...this.totals.undecoded}}
  }
}

/** Bucket k holds sizes in [2^k, 2^(k+1)). */
function bucketOf(n: number): number {
  return n <= 1 ? 0 : 31 - Math.clz32(n)
}

function histogram(counts: number[]): SizeBucket[] {
  const out: SizeBucket[] = []
  counts.forEach((records, k) => {
    if (records) out.push({min: 2 ** k, max: 2 ** (k + 1) - 1, records})
  })
  return out
}

export class StatsCollector implements DumpVisitor {
  private readonly done: SegmentStats[] = []
  private cur?: SegmentStats & {counts: number[]}
  private readonly totalCounts: number[] = []
  private readonly ops?: OperationCounter

  constructor(options: {operations?: boolean} = {}) {
    if (options.operations) this.ops = new OperationCounter()
  }

  private readonly total = {segments: 0, size: 0, records: 0, resyncedRecords: 0, payloadBytes: 0, used: 0, damagedRegions: 0, damagedBytes: 0, first: null as string | null, last: null as string | null}

  segment(s: DumpSegment): void {
    this.cur = {segment: s.id, file: s.file, size: s.size, records: 0, resyncedRecords: 0, payloadBytes: 0, fill: 0, damagedRegions: 0, damagedBytes: 0, first: null, last: null, histogram: [], counts: []}
  }

  record(r: DumpRecord): void {
    const c = this.cur
    if (!c) return
    const pos = `${r.segment}:${r.offset}`
    c.records++
    c.payloadBytes += r.length
    this.ops?.add(r.data)
    if (r.resynced) c.resyncedRecords++
    c.first ??= pos
    c.last = pos
    const k = bucketOf(r.length)
    c.counts[k] = (c.counts[k] ?? 0) + 1
    this.totalCounts[k] = (this.totalCounts[k] ?? 0) + 1
  }

  damage(d: DumpDamage): void {
    const c = this.cur
    if (!c || d.segment !== c.segment) return
    c.damagedRegions++
    if (d.offset !== null && d.end !== null && d.kind !== 'size-mismatch') c.damagedBytes += Math.max(0, Math.min(d.end, c.size) - d.offset)
  }

  segmentEnd(s: SegmentSummary): void {
    const c = this.cur
    if (!c) return
    this.cur = undefined
    const {counts, ...rest} = c
    const stats: SegmentStats = {...rest, fill: s.size > 0 ? s.lastRecordEnd / s.size : 0, histogram: histogram(counts), verdict: s.verdict}
    this.done.push(stats)
    const t = this.total
    t.segments++
    t.size += s.size
    t.used += Math.min(s.size, s.lastRecordEnd)
    t.records += stats.records
    t.resyncedRecords += stats.resyncedRecords
    t.payloadBytes += stats.payloadBytes
    t.damagedRegions += stats.damagedRegions
    t.damagedBytes += stats.damagedBytes
    t.first ??= stats.first
    t.last = stats.last ?? t.last
  }

  result(): DumpStats {
    const {used, ...t} = this.total
    const stats: DumpStats = {segments: this.done, total: {...t, fill: t.size > 0 ? used / t.size : 0, histogram: histogram(this.totalCounts)}}
    if (this.ops) stats.operations = this.ops.result()
    return stats
  }
}
