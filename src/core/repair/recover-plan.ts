// What a recovery would do, decided from one read-only scan: per mode, which
// segments are rewritten (keeping which record bytes), moved out of the WAL or
// created, and how many valid records each keeps and drops. Pure planning: it
// changes nothing; recover.ts carries a plan out.
import {ExitCode, WalError} from '../errors.js'
import {FIRST_RECORD_OFFSET, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE, nowMicros, RECORD_HEADER_SIZE, SegmentHeader} from '../format/format.js'
import {HeaderProblemKind, isFatalHeaderProblem} from '../format/header-check.js'
import * as path from 'node:path'
import {segmentFileName} from '../format/names.js'
import {Problem, ProblemKind, scanWal, SegmentSummary, Verdict, WalScanOptions, WalScanResult, worst} from '../read/scan.js'
import {untoldSizeProblems} from '../write/untold-size.js'

export type RecoverMode = 'tolerate-tail' | 'point-in-time' | 'salvage'
export const RECOVER_MODES: readonly RecoverMode[] = ['tolerate-tail', 'point-in-time', 'salvage']

/** A valid record found by the scan: `offset` of its header, `length` of its payload. */
export interface RecordRef {
  offset: number
  length: number
  /** Found only by resyncing past damage. */
  resynced: boolean
}

/** One scan of a WAL with every valid record's place, enough to plan any mode. */
export interface WalInventory {
  scan: WalScanResult
  records: Map<number, RecordRef[]>
  headers: Map<number, SegmentHeader | undefined>
}

export function takeInventory(dir: string, options: WalScanOptions = {}): WalInventory {
  const collector = inventoryCollector(options)
  return collector.finish(scanWal(dir, collector.options))
}

/** The scan options that collect an inventory, and the inventory once that scan (sync or async) is done. */
export function inventoryCollector(options: WalScanOptions = {}): {options: WalScanOptions; finish: (scan: WalScanResult) => WalInventory} {
  const records = new Map<number, RecordRef[]>()
  const headers = new Map<number, SegmentHeader | undefined>()
  return {
    options: {
      ...options,
      onSegment: (file, header) => {
        records.set(file.id, [])
        headers.set(file.id, header)
      },
      onRecord: (segment, _buf, offset, length, _crc, resynced) => {
        records.get(segment)!.push({offset, length, resynced})
      },
    },
    finish: (scan) => {
      // A segment too small for any record is damage here as in verify, so that both tell one story.
      for (const p of untoldSizeProblems(scan)) {
        scan.problems.push(p)
        scan.verdict = worst(scan.verdict, p.severity)
      }
      return {scan, records, headers}
    },
  }
}

export type SegmentActionKind = 'rewrite' | 'move' | 'create'

/** The header a rewritten or created segment gets. Timestamps in microseconds. */
export interface HeaderPlan {
  /** A fresh header as Shardex writes it, instead of the original's 89 bytes. */
  fresh: boolean
  createdAtUs: number
  modifiedAtUs: number
}

export interface SegmentAction {
  action: SegmentActionKind
  segment: number
  /** The segment's path in the WAL directory. */
  file: string
  /** rewrite: byte ranges `[from, to)` of the original kept, written contiguously from offset 89. */
  keep: Array<[number, number]>
  header?: HeaderPlan
  keptRecords: number
  droppedRecords: number
  loss: Loss
  /** One line per reason, from the problems that call for it. */
  why: string[]
}

/**
 * What a change costs, counted apart so that no loss hides behind another:
 * valid records found before any damage and dropped; records found only by
 * resyncing past damage (which may be the data of a damaged record), kept or
 * dropped; damaged regions (a torn or corrupted record, debris, a broken
 * header) and their bytes, removed from the WAL. `droppedRecords` is
 * `validDropped + resyncedDropped`.
 */
export interface Loss {
  validDropped: number
  resyncedKept: number
  resyncedDropped: number
  damagedRegions: number
  damagedBytesRemoved: number
}

export function noLoss(): Loss {
  return {validDropped: 0, resyncedKept: 0, resyncedDropped: 0, damagedRegions: 0, damagedBytesRemoved: 0}
}

export function addLoss(total: Loss, l: Loss): Loss {
  for (const k of Object.keys(total) as Array<keyof Loss>) total[k] += l[k]
  return total
}

export interface ModeOutcome {
  mode: RecoverMode
  possible: boolean
  /** Why the mode cannot run, when it cannot. */
  reason?: string
  keptRecords: number
  droppedRecords: number
  loss: Loss
  actions: SegmentAction[]
}

const TIMESTAMP_KINDS: ReadonlySet<ProblemKind> = new Set<HeaderProblemKind>(['future-timestamp', 'clock-skew', 'created-after-modified'])

function describe(p: Problem): string {
  return `${p.kind}${p.offset === null ? '' : ` at ${p.offset}`}: ${p.message}`
}

function recordEnd(r: RecordRef): number {
  return r.offset + RECORD_HEADER_SIZE + r.length
}

/** Adjacent records become one range. */
function ranges(records: readonly RecordRef[]): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const r of records) {
    const last = out.at(-1)
    if (last && last[1] === r.offset) last[1] = recordEnd(r)
    else out.push([r.offset, recordEnd(r)])
  }
  return out
}

function keptBytes(keep: ReadonlyArray<[number, number]>): number {
  return keep.reduce((n, [a, b]) => n + b - a, 0)
}

/** Salvage fills a gap with empty segments only up to this many (and only as many as the free space holds). */
export const MAX_SALVAGE_FILL = 1000

/** Ids missing between the first and the last segment, as inclusive ranges. */
export function missingRanges(ids: readonly number[]): Array<[number, number]> {
  const sorted = [...ids].sort((a, b) => a - b)
  const out: Array<[number, number]> = []
  for (let i = 1; i < sorted.length; i++) if (sorted[i] > sorted[i - 1] + 1) out.push([sorted[i - 1] + 1, sorted[i] - 1])
  return out
}

export interface PlanOptions {
  /** The operator's segment size (recover --segment-size), for a WAL none of whose segments can tell it. */
  segmentSize?: number
  /** Free bytes on the WAL's file system, to refuse a fill that cannot fit. */
  freeBytes?: number
}

class Planner {
  readonly byId = new Map<number, SegmentSummary>()
  readonly problems = new Map<number, Problem[]>()
  /** Derived from the segments found, not from the problems: a reader may report a long gap as one range. */
  readonly missing: Array<[number, number]>
  readonly now: number

  constructor(readonly inv: WalInventory, nowUs: bigint, readonly options: PlanOptions = {}) {
    this.now = Number(nowUs)
    for (const s of inv.scan.segments) this.byId.set(s.id, s)
    this.missing = missingRanges([...this.byId.keys()])
    for (const p of inv.scan.problems) {
      if (p.kind === 'missing-segment') continue
      if (p.segment !== null && this.byId.has(p.segment)) {
        const list = this.problems.get(p.segment) ?? []
        list.push(p)
        this.problems.set(p.segment, list)
      }
    }
  }

  get segmentSize(): number {
    return this.options.segmentSize ?? this.inv.scan.segmentSize
  }

  segmentProblems(id: number): Problem[] {
    return this.problems.get(id) ?? []
  }

  /**
   * Problems that a recover must remove. A timestamp within the allowed clock
   * skew is only a warning for verify, but Shardex on this machine would
   * refuse it, so a recover resets it too.
   */
  needsFix(id: number): boolean {
    return this.segmentProblems(id).some((p) => p.severity !== 'warning' || p.kind === 'clock-skew')
  }

  hasFatalHeader(id: number): boolean {
    return this.segmentProblems(id).some((p) => isFatalHeaderProblem(p.kind))
  }

  /** The first place, in WAL order, where a problem costs a record or a segment. */
  firstDamage(): {id: number; kind: 'gap' | 'segment' | 'records'} | undefined {
    const firstGap = this.missing[0]?.[0] ?? Infinity
    const ids = [...this.byId.keys()].sort((a, b) => a - b)
    for (const id of ids) {
      if (id > firstGap) return {id: firstGap, kind: 'gap'}
      const damaged = this.segmentProblems(id).filter((p) => p.severity === 'damaged')
      if (damaged.length === 0) continue
      return {id, kind: damaged.some((p) => isFatalHeaderProblem(p.kind)) ? 'segment' : 'records'}
    }
    return undefined
  }

  header(id: number): HeaderPlan {
    const h = this.inv.headers.get(id)
    const fresh = this.hasFatalHeader(id)
    let created = h ? Number(h.createdAtUs) : this.now
    let modified = h ? Number(h.modifiedAtUs) : this.now
    if (!Number.isSafeInteger(created) || created > this.now) created = this.now
    if (!Number.isSafeInteger(modified) || modified > this.now) modified = this.now
    if (created > modified) modified = created
    return {fresh, createdAtUs: created, modifiedAtUs: modified}
  }

  rewrite(id: number, keep: RecordRef[], extraWhy: string[] = []): SegmentAction {
    const s = this.byId.get(id)!
    return {
      action: 'rewrite',
      segment: id,
      file: s.file,
      keep: ranges(keep),
      header: this.header(id),
      keptRecords: keep.length,
      droppedRecords: s.records - keep.length,
      loss: this.loss(id, keep),
      why: [...this.segmentProblems(id).filter((p) => p.severity !== 'warning' || TIMESTAMP_KINDS.has(p.kind)).map(describe), ...extraWhy],
    }
  }

  move(id: number, why: string): SegmentAction {
    const s = this.byId.get(id)!
    return {action: 'move', segment: id, file: s.file, keep: [], keptRecords: 0, droppedRecords: s.records, loss: this.loss(id, []), why: [why]}
  }

  create(id: number, why: string): SegmentAction {
    return {
      action: 'create',
      segment: id,
      file: path.join(this.inv.scan.dir, segmentFileName(id)),
      keep: [],
      header: {fresh: true, createdAtUs: this.now, modifiedAtUs: this.now},
      keptRecords: 0,
      droppedRecords: 0,
      loss: noLoss(),
      why: [why],
    }
  }

  /** What keeping only `keep` of a segment's records costs: every damaged region of it leaves the WAL with the change. */
  loss(id: number, keep: readonly RecordRef[]): Loss {
    const kept = new Set(keep)
    const loss = noLoss()
    for (const r of this.inv.records.get(id) ?? []) {
      if (!r.resynced) loss.validDropped += kept.has(r) ? 0 : 1
      else if (kept.has(r)) loss.resyncedKept++
      else loss.resyncedDropped++
    }
    let header = false
    for (const p of this.segmentProblems(id)) {
      if (p.severity === 'warning') continue
      if (p.end !== undefined && p.offset !== null) {
        loss.damagedRegions++
        loss.damagedBytesRemoved += p.end - p.offset
      } else if (isFatalHeaderProblem(p.kind)) header = true
    }
    if (header) {
      // The header's bytes, or the whole of a file too short to hold one.
      loss.damagedRegions++
      loss.damagedBytesRemoved += Math.min(this.byId.get(id)!.size, FIRST_RECORD_OFFSET)
    }
    return loss
  }

  /** Records of a segment from its start up to the first damage: what a writer would resume after. */
  leadingRecords(id: number): RecordRef[] {
    return (this.inv.records.get(id) ?? []).filter((r) => !r.resynced && recordEnd(r) <= this.segmentSize)
  }

  outcome(mode: RecoverMode, actions: SegmentAction[], reason?: string): ModeOutcome {
    const total = this.inv.scan.records
    if (reason) return {mode, possible: false, reason, keptRecords: total, droppedRecords: 0, loss: noLoss(), actions: []}
    const dropped = actions.reduce((n, a) => n + a.droppedRecords, 0)
    return {mode, possible: true, keptRecords: total - dropped, droppedRecords: dropped, loss: actions.reduce((l, a) => addLoss(l, a.loss), noLoss()), actions}
  }

  tolerateTail(): ModeOutcome {
    if (this.inv.scan.verdict === 'damaged') {
      return this.outcome('tolerate-tail', [], 'the WAL is damaged: repairing it would drop or skip valid records, or a header or segment is broken; choose --mode point-in-time or --mode salvage')
    }
    return this.outcome('tolerate-tail', this.fixTails([...this.byId.keys()]))
  }

  private fixTails(ids: number[]): SegmentAction[] {
    return ids.filter((id) => this.needsFix(id)).map((id) => this.rewrite(id, this.leadingRecords(id)))
  }

  pointInTime(): ModeOutcome {
    const cut = this.firstDamage()
    const ids = [...this.byId.keys()]
    if (!cut) return this.outcome('point-in-time', this.fixTails(ids))
    const where = cut.kind === 'gap' ? `segment ${cut.id} is missing` : `the first damage is in segment ${cut.id}`
    // Order matters if the recover is interrupted: later segments go first, newest first, then the cut, so
    // that a WAL left half-way never holds records from after the first damage without those before it, and
    // a second run finds the same first damage and finishes the job.
    const actions = ids.filter((id) => id > cut.id).reverse().map((id) => this.move(id, `point-in-time: ${where}; later segments are moved out of the WAL`))
    if (cut.kind === 'records') {
      actions.push(this.rewrite(cut.id, this.leadingRecords(cut.id), ['point-in-time: cut after the last valid record before the first damage']))
    } else if (cut.kind === 'segment') {
      // The WAL must keep a segment that takes appends: the first one is rewritten empty rather than moved.
      if (ids[0] === cut.id) actions.push(this.rewrite(cut.id, [], ['point-in-time: the header is broken; the segment is rewritten empty']))
      else actions.push(this.move(cut.id, 'point-in-time: the header is broken; moved out of the WAL'))
    }
    actions.push(...this.fixTails(ids.filter((id) => id < cut.id)))
    return this.outcome('point-in-time', actions)
  }

  salvage(): ModeOutcome {
    const actions: SegmentAction[] = []
    for (const id of this.byId.keys()) {
      if (!this.needsFix(id)) continue
      const all = (this.inv.records.get(id) ?? []).slice()
      const action = this.rewrite(id, all, this.segmentProblems(id).some((p) => p.severity === 'damaged') ? ['salvage: every valid record is kept, made contiguous in order'] : [])
      if (FIRST_RECORD_OFFSET + keptBytes(action.keep) > this.segmentSize) {
        return this.outcome('salvage', [], `the valid records of segment ${id} (${keptBytes(action.keep)} bytes) do not fit in a segment of ${this.segmentSize} bytes`)
      }
      actions.push(action)
    }
    const refusal = this.fillRefusal()
    if (refusal) return this.outcome('salvage', [], refusal)
    for (const [from, to] of this.missing) {
      for (let id = from; id <= to; id++) actions.push(this.create(id, `salvage: segment ${id} is missing from the middle of the WAL; an empty segment takes its place`))
    }
    return this.outcome('salvage', actions)
  }

  /** Why the gaps cannot be filled with empty segments, decided before anything changes. */
  private fillRefusal(): string | undefined {
    const count = this.missing.reduce((n, [a, b]) => n + b - a + 1, 0)
    if (count === 0) return undefined
    const [from, to] = this.missing.length === 1 ? this.missing[0] : [this.missing[0][0], this.missing.at(-1)![1]]
    const what = `${count} segment(s) are missing (${segmentFileName(from)}${from === to ? '' : `..${segmentFileName(to)}`})`
    const alternative = 'choose --mode point-in-time, which keeps the records before the first gap, or put the missing segments back'
    if (count > MAX_SALVAGE_FILL) return `${what}: too many to fill with empty segments (salvage fills at most ${MAX_SALVAGE_FILL}); ${alternative}`
    const needed = count * this.segmentSize
    if (this.options.freeBytes !== undefined && needed > this.options.freeBytes) {
      return `${what}: filling them needs ${needed} bytes and the file system has ${this.options.freeBytes} free; ${alternative}`
    }
    return undefined
  }

  /**
   * Every segment is too small to hold a record, so none tells the WAL's
   * segment size. With the operator's size, each is rewritten to it: none can
   * hold a record, so none is lost; a broken header gets a fresh one (the
   * original goes to the quarantine like every rewritten segment).
   */
  resize(mode: RecoverMode): ModeOutcome {
    if (this.missing.length > 0) return this.outcome(mode, [], `${this.fillRefusal() ?? 'segments are missing'}; and no segment can tell the WAL's segment size`)
    const why = (s: SegmentSummary): string => `the segment is ${s.size} bytes, too small to hold any record; rewritten to --segment-size ${this.segmentSize}`
    const segments = [...this.byId.values()]
    // A segment big enough to hold records is never emptied here: it must already have the size given.
    const other = segments.find((s) => s.size >= MIN_SEGMENT_SIZE && s.size !== this.segmentSize)
    if (other) return this.outcome(mode, [], `${path.basename(other.file)} is ${other.size} bytes, not the --segment-size ${this.segmentSize} given`)
    return this.outcome(mode, segments.filter((s) => s.size < MIN_SEGMENT_SIZE).map((s) => this.rewrite(s.id, [], [why(s)])))
  }
}

export interface RecoverPlan {
  dir: string
  segmentSize: number
  verdict: Verdict
  records: number
  problems: Problem[]
  /** Every mode's outcome, the chosen one's actions included. */
  modes: Record<RecoverMode, ModeOutcome>
}

export function planRecovery(inv: WalInventory, nowUs: bigint = nowMicros(), options: PlanOptions = {}): RecoverPlan {
  const {scan} = inv
  const untold = scan.segmentSize < MIN_SEGMENT_SIZE && scan.segments.length > 0
  if (options.segmentSize !== undefined) {
    const size = options.segmentSize
    if (!Number.isSafeInteger(size) || size < MIN_SEGMENT_SIZE || size > MAX_SEGMENT_SIZE) {
      throw new WalError(ExitCode.USAGE, `--segment-size ${size} is out of range: a segment is ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE} bytes`)
    }
    if (!untold && options.segmentSize !== scan.segmentSize) {
      throw new WalError(ExitCode.USAGE, `--segment-size ${options.segmentSize} disagrees with the WAL's segments (${scan.segmentSize} bytes): it is only for a WAL none of whose segments can tell its size`, {file: scan.dir})
    }
  }
  const planner = new Planner(inv, nowUs, untold ? options : {freeBytes: options.freeBytes})
  let modes: Record<RecoverMode, ModeOutcome>
  if (untold && options.segmentSize !== undefined) {
    modes = {'tolerate-tail': planner.resize('tolerate-tail'), 'point-in-time': planner.resize('point-in-time'), salvage: planner.resize('salvage')}
  } else if (untold) {
    const reason = `no segment is long enough to tell the WAL's segment size (each is shorter than ${MIN_SEGMENT_SIZE} bytes, too small to hold a record): give it with --segment-size SIZE (the size the WAL's writer uses, e.g. 1MiB); the broken segments are quarantined and rewritten empty`
    modes = {
      'tolerate-tail': planner.outcome('tolerate-tail', [], reason),
      'point-in-time': planner.outcome('point-in-time', [], reason),
      salvage: planner.outcome('salvage', [], reason),
    }
  } else {
    modes = {'tolerate-tail': planner.tolerateTail(), 'point-in-time': planner.pointInTime(), salvage: planner.salvage()}
  }
  return {dir: scan.dir, segmentSize: planner.segmentSize, verdict: scan.verdict, records: scan.records, problems: scan.problems, modes}
}
