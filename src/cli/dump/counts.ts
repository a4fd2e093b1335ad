// The dump's counts for a person: what was shown, of what the selection
// holds, and why less was shown ("3 of 69 record(s) (--limit 3)").
import {DumpResult} from '../../core/dump/walk.js'
import {SegmentCounts, WindowCounts} from '../../core/dump/window.js'
import {SegmentSummary} from '../../core/read/scan.js'
import {formatBytes} from '../../core/format/units.js'

function of(shown: number, all: number, what: string): string {
  return shown === all ? `${all} ${what}` : `${shown} of ${all} ${what}`
}

/** Counts from the walk alone, for a renderer used without a window. */
export function resultCounts(r: DumpResult): WindowCounts {
  const all = {segments: r.segments, records: r.records, damaged: r.damaged}
  return {shown: all, matched: {...all}, limited: false}
}

/** The closing line: `3 of 69 record(s), 1 damaged region(s) shown (--limit 3), in 1 of 5 segment(s)` (the verdict is added by the caller). */
export function totalsText(c: WindowCounts): string {
  const limit = c.limited ? ` (--limit ${c.limit})` : ''
  return `${of(c.shown.records, c.matched.records, 'record(s)')}, ${of(c.shown.damaged, c.matched.damaged, 'damaged region(s)')} shown${limit}, in ${of(c.shown.segments, c.matched.segments, 'segment(s)')}`
}

/** A segment's closing line: its own totals, and how many of its records were shown when not all. */
export function segmentText(s: SegmentSummary, c?: SegmentCounts): string {
  const resynced = s.resyncedRecords ? `, ${s.resyncedRecords} found by resync` : ''
  const own = `${s.records} record(s), ${formatBytes(s.payloadBytes)} of payload${resynced}, ${s.damagedBytes} damaged byte(s), ends at ${s.lastRecordEnd}`
  if (!c) return own
  const cut = c.cut ? ` up to ${c.cut}` : ''
  const all = c.shown.records === s.records && c.shown.damaged === c.matched.damaged && !c.cut
  if (all) return own
  const records = c.shown.records === c.matched.records ? `${c.shown.records} record(s)` : `${c.shown.records} of ${c.matched.records} selected record(s)`
  const damaged = c.shown.damaged === c.matched.damaged ? '' : `, ${c.shown.damaged} of ${c.matched.damaged} damaged region(s)`
  return `${records}${damaged} shown; segment${cut}: ${own}`
}
