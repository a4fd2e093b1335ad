// What a dump shows of what its walk finds. The walk applies the filters of
// place (segment, position, offset, valid or damaged); this applies those that
// need a record's contents (--op), then --limit, shows a segment's header only
// once something of it is shown when asked to (--damaged-only, --offset, --op),
// and counts both what it shows and what the selection holds
// ("3 of 69 records"). Where those counts are shown, the walk is not stopped at
// --limit: the rest of the selection is read and counted, not rendered.
import {Problem, SegmentSummary} from '../read/scan.js'
import {DumpDamage, DumpRecord, DumpResult, DumpSegment, DumpTarget, DumpVisitor} from './walk.js'

export interface EntryCounts {
  segments: number
  records: number
  damaged: number
}

/** One segment's counts: what the selection holds of it and what was shown. */
export interface SegmentCounts {
  matched: {records: number; damaged: number}
  shown: {records: number; damaged: number}
  /** The reading ended inside this segment (`--to 2:200`, `--limit 3`): its summary covers the part read. */
  cut?: string
}

export interface WindowCounts {
  shown: EntryCounts
  /** What the filters select before --limit: segments read, records and regions matched. */
  matched: EntryCounts
  /** --limit left entries out. */
  limited: boolean
  limit?: number
}

/** A visitor that may have a beginning and an end, and takes a segment's counts at its end. */
export interface WindowSink extends DumpVisitor {
  begin?(target: DumpTarget): void
  end?(result: DumpResult, counts: WindowCounts): void
  segmentEnd?(s: SegmentSummary, counts?: SegmentCounts): void
}

export interface WindowOptions {
  limit?: number
  /** Whether a valid record is selected by its contents (--op). */
  keep?: (r: DumpRecord) => boolean
  /** Show a segment's header only once a record or region of it is shown. */
  sparse?: boolean
  /** --to, as `SEGMENT:OFFSET`, and its segment. */
  to?: {segment: number; text: string}
  /** The walk itself stops at --limit (no counts past it are wanted). */
  walkStopsAtLimit?: boolean
  /** Sees every segment's summary, shown or not. */
  onSummary?: (s: SegmentSummary) => void
}

export class DumpWindow implements DumpVisitor {
  readonly shown: EntryCounts = {segments: 0, records: 0, damaged: 0}
  readonly matched: EntryCounts = {segments: 0, records: 0, damaged: 0}
  limited = false
  private begun = false
  private pending?: DumpSegment
  /** Warnings of the pending segment's header, shown with it. */
  private held: Problem[] = []
  private open?: DumpSegment
  private seg: SegmentCounts = {matched: {records: 0, damaged: 0}, shown: {records: 0, damaged: 0}}

  constructor(private readonly target: DumpTarget, private readonly sink: WindowSink, private readonly o: WindowOptions = {}) {}

  /** --limit is reached: nothing more is shown. */
  full(): boolean {
    return this.shown.records + this.shown.damaged >= (this.o.limit ?? Infinity)
  }

  counts(): WindowCounts {
    return {shown: {...this.shown}, matched: {...this.matched}, limited: this.limited, limit: this.o.limit}
  }

  begin(): void {
    if (this.begun) return
    this.begun = true
    this.sink.begin?.(this.target)
  }

  end(result: DumpResult): void {
    this.begin()
    this.sink.end?.(result, this.counts())
  }

  segment(s: DumpSegment): void {
    this.matched.segments++
    this.pending = s
    this.open = undefined
    this.held = []
    this.seg = {matched: {records: 0, damaged: 0}, shown: {records: 0, damaged: 0}}
    if (!this.o.sparse && !this.full()) this.openSegment()
  }

  record(r: DumpRecord): void {
    if (this.o.keep && !this.o.keep(r)) return
    this.matched.records++
    this.seg.matched.records++
    if (this.full()) {
      this.limited = true
      return
    }
    this.openSegment(r.segment)
    this.shown.records++
    this.seg.shown.records++
    this.sink.record?.(r)
  }

  damage(d: DumpDamage): void {
    const own = d.segment !== null && d.segment === (this.pending ?? this.open)?.id
    this.matched.damaged++
    if (own) this.seg.matched.damaged++
    if (this.full()) {
      this.limited = true
      return
    }
    if (own) this.openSegment(d.segment!)
    else this.begin()
    this.shown.damaged++
    if (own) this.seg.shown.damaged++
    this.sink.damage?.(d)
  }

  warning(p: Problem): void {
    if (this.pending && p.segment === this.pending.id) {
      this.held.push(p)
      return
    }
    if (p.segment !== null && p.segment !== this.open?.id) return
    this.begin()
    this.sink.warning?.(p)
  }

  segmentEnd(s: SegmentSummary): void {
    this.o.onSummary?.(s)
    const shown = this.open?.id === s.id
    this.pending = undefined
    this.open = undefined
    this.held = []
    if (!shown) return
    const cut = this.o.walkStopsAtLimit && this.full() ? `--limit ${this.o.limit}` : this.o.to?.segment === s.id ? `--to ${this.o.to.text}` : undefined
    this.sink.segmentEnd?.(s, {...this.seg, ...(cut ? {cut} : {})})
  }

  private openSegment(id?: number): void {
    const s = this.pending
    if (!s || (id !== undefined && id !== s.id)) return
    this.begin()
    this.pending = undefined
    this.open = s
    this.shown.segments++
    this.sink.segment?.(s)
    for (const p of this.held) this.sink.warning?.(p)
    this.held = []
  }
}
