// json: one JSON document for the whole dump, still written as it is read:
// {input, dir, segments: [{id, file, size, header, problems, entries: [...], summary}], problems, summary}.
import {DumpDamage, DumpRecord, DumpResult, DumpSegment, DumpTarget} from '../../core/dump/walk.js'
import {Problem, SegmentSummary} from '../../core/read/scan.js'
import {SegmentCounts, WindowCounts} from '../../core/dump/window.js'
import {resultCounts} from './counts.js'
import {damageJson, recordJson, segmentJson} from './json-fields.js'
import {DumpRenderer, RenderOptions} from './renderer.js'

export class JsonRenderer implements DumpRenderer {
  private segments = 0
  private entries = 0
  private inSegment = false
  /** Problems of the directory: few (strays, missing ids), written at the end. */
  private readonly problems: unknown[] = []

  constructor(private readonly o: RenderOptions) {}

  begin(t: DumpTarget): void {
    this.o.out.write(`{"input":${JSON.stringify(t.input)},"dir":${JSON.stringify(t.dir)},"segments":[`)
  }

  segment(s: DumpSegment): void {
    const head = JSON.stringify(segmentJson(s))
    this.o.out.write(`${this.segments++ ? ',' : ''}\n${head.slice(0, -1)},"entries":[`)
    this.inSegment = true
    this.entries = 0
  }

  record(r: DumpRecord): void {
    this.entry(JSON.stringify(recordJson(r, this.o.encoding, this.o.decode)))
  }

  damage(d: DumpDamage): void {
    if (this.inSegment) this.entry(JSON.stringify(damageJson(d)))
    else this.problems.push(damageJson(d))
  }

  warning(p: Problem): void {
    // A header's warnings are already in its segment's problems.
    if (!this.inSegment) this.problems.push({segment: p.segment, offset: p.offset, end: p.end ?? p.offset, kind: p.kind, severity: p.severity, message: p.message})
  }

  segmentEnd(s: SegmentSummary, counts?: SegmentCounts): void {
    const {header: _h, file: _f, ...summary} = s
    const shown = counts ? {shown: counts.shown, matched: counts.matched} : {}
    this.o.out.write(`\n],"summary":${JSON.stringify({...summary, ...shown})}}`)
    this.inSegment = false
  }

  end(r: DumpResult, counts: WindowCounts = resultCounts(r)): void {
    const {shown, matched, limited} = counts
    const summary = {segments: shown.segments, records: shown.records, damaged: shown.damaged, stopped: r.stopped || limited, verdict: r.verdict, segmentSize: r.segmentSize, matched, limited}
    this.o.out.write(`\n],"problems":${JSON.stringify(this.problems)},"summary":${JSON.stringify(summary)}}\n`)
  }

  private entry(text: string): void {
    this.o.out.write(`${this.entries++ ? ',' : ''}\n${text}`)
  }
}
