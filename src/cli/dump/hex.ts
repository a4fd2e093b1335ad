// hex: each segment's header, record and damaged region as a canonical
// hexdump at its absolute file offsets; damaged regions with --context bytes
// either side, read again from the file in 64 KiB pieces.
import * as path from 'node:path'
import {crcHex} from '../../core/format/crc.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../../core/format/format.js'
import {DumpDamage, DumpRecord, DumpResult, DumpSegment} from '../../core/dump/walk.js'
import {Problem, SegmentSummary} from '../../core/read/scan.js'
import {decodeShardexTransaction, describeTransaction} from '../../core/format/shardex-transaction.js'
import {SegmentCounts} from '../../core/dump/window.js'
import {segmentText} from './counts.js'
import {HexDump} from './hexdump.js'
import {DumpRenderer, RenderOptions} from './renderer.js'

const PIECE = 64 * 1024

export class HexRenderer implements DumpRenderer {
  constructor(private readonly o: RenderOptions) {}
  begin(): void {}

  segment(s: DumpSegment): void {
    const c = this.o.chalk
    this.line(c.bold(`# ${path.basename(s.file)}: segment ${s.id}, ${s.size} bytes (${s.file})`))
    this.line(c.dim(`header 0..${Math.min(s.size, FIRST_RECORD_OFFSET)}`))
    this.dumpFile(s.file, 0, Math.min(s.size, FIRST_RECORD_OFFSET))
  }

  record(r: DumpRecord): void {
    const c = this.o.chalk
    const status = r.resynced ? c.yellow('ok, found by resync') : c.green('ok')
    this.line(`record ${r.segment}:${r.offset} length ${r.length} crc32 ${crcHex(r.crc32)} ${status}`)
    const head = Buffer.alloc(RECORD_HEADER_SIZE)
    head.writeUInt32LE(r.length, 0)
    head.writeUInt32LE(r.crc32, 4)
    const dump = new HexDump(r.offset, (l) => this.line(l))
    dump.feed(head)
    dump.feed(r.data)
    dump.finish()
    if (this.o.decode === 'shardex') {
      const d = decodeShardexTransaction(r.data)
      this.line(d.ok ? `  ${describeTransaction(d.transaction)}` : c.red(`  not a Shardex transaction: ${d.reason} (payload offset ${d.offset})`))
    }
  }

  damage(d: DumpDamage): void {
    const c = this.o.chalk
    const where = d.offset === null ? '' : ` ${d.segment}:${d.offset}${d.end !== null && d.end !== d.offset ? `..${d.end}` : ''}`
    this.line(c.red(`damage${where} ${d.kind} (${d.severity}): ${d.message}`))
    if (d.segment === null || d.offset === null || d.end === null) return
    const ctx = this.o.context
    const end = Math.max(d.end, d.offset)
    if (ctx > 0 && d.offset > 0) {
      this.line(c.dim(`context before ${Math.max(0, d.offset - ctx)}..${d.offset}`))
      this.dumpFile(d.file, Math.max(0, d.offset - ctx), d.offset)
    }
    this.dumpFile(d.file, d.offset, end)
    if (ctx > 0) {
      const size = this.o.bytes.fileSize(d.file)
      if (end < size) {
        this.line(c.dim(`context after ${end}..${Math.min(size, end + ctx)}`))
        this.dumpFile(d.file, end, end + ctx)
      }
    }
  }

  warning(p: Problem): void {
    this.line(this.o.chalk.yellow(`warning ${p.segment ?? ''}${p.offset === null ? '' : `:${p.offset}`} ${p.kind}: ${p.message}`))
  }

  segmentEnd(s: SegmentSummary, counts?: SegmentCounts): void {
    this.line(this.o.chalk.dim(`# end of segment ${s.id}: ${segmentText(s, counts)}: ${s.verdict}`))
    this.line('')
  }

  end(_r: DumpResult): void {}

  private dumpFile(file: string, from: number, to: number): void {
    const dump = new HexDump(from, (l) => this.line(l))
    for (let at = from; at < to; ) {
      const {bytes} = this.o.bytes.read(file, at, Math.min(to, at + PIECE), PIECE)
      if (bytes.length === 0) break
      dump.feed(bytes)
      at += bytes.length
    }
    dump.finish()
  }

  private line(text: string): void {
    this.o.out.write(text + '\n')
  }
}
