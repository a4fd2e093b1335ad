// table: per segment, a header table (every field, padding shown, problems
// flagged), then one row per record or damaged region, streamed as read.
import * as path from 'node:path'
import {crc32 as zlibCrc32} from 'node:zlib'
import Table from 'cli-table3'
import {crcHex} from '../../core/format/crc.js'
import {DumpDamage, DumpRecord, DumpResult, DumpSegment} from '../../core/dump/walk.js'
import {FIELD, FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../../core/format/format.js'
import {formatMicros} from '../../core/format/header-check.js'
import {Problem, SegmentSummary} from '../../core/read/scan.js'
import {decodeShardexTransaction, describeTransaction} from '../../core/format/shardex-transaction.js'
import {formatBytes} from '../../core/format/units.js'
import {SegmentCounts, WindowCounts} from '../../core/dump/window.js'
import {resultCounts, segmentText, totalsText} from './counts.js'
import {cut, previewPayload} from './preview.js'
import {DumpRenderer, RenderOptions} from './renderer.js'

const FIELDS: Array<{name: string; field: {offset: number; size: number}; checked: boolean}> = [
  {name: 'magic', field: FIELD.magic, checked: true},
  {name: 'version', field: FIELD.version, checked: true},
  {name: 'header_size', field: FIELD.headerSize, checked: true},
  {name: 'padding', field: FIELD.padding1, checked: false},
  {name: 'data_offset', field: FIELD.dataOffset, checked: true},
  {name: 'checksum', field: FIELD.checksum, checked: false},
  {name: 'padding', field: FIELD.padding2, checked: false},
  {name: 'created_at', field: FIELD.createdAt, checked: true},
  {name: 'modified_at', field: FIELD.modifiedAt, checked: true},
  {name: 'reserved', field: FIELD.reserved, checked: true},
  {name: 'wal reserved', field: FIELD.walReserved, checked: false},
]

const W_LENGTH = 10
const W_CRC = 8
const W_STATUS = 16

function pad(text: string, width: number, right = false): string {
  const n = [...text].length
  if (n >= width) return text
  return right ? ' '.repeat(width - n) + text : text + ' '.repeat(width - n)
}

export class TableRenderer implements DumpRenderer {
  private posWidth = 12

  constructor(private readonly o: RenderOptions) {}

  begin(): void {}

  segment(s: DumpSegment): void {
    const c = this.o.chalk
    this.posWidth = Math.max(12, String(s.id).length + 2 * String(s.size).length + 3)
    this.line('')
    this.line(c.bold(`${path.basename(s.file)}  segment ${s.id}  ${s.size} bytes (${formatBytes(s.size)})  ${s.file}`))
    this.line(this.headerTable(s))
    // Problems of a field are flagged in the table; the others that cost something get a row of their own below.
    for (const p of s.problems) {
      const inField = p.offset !== null && p.offset < FIRST_RECORD_OFFSET && p.kind !== 'short-file' && p.kind !== 'size-mismatch'
      if (!inField && p.severity === 'warning') this.line(c.yellow(`${p.kind}: ${p.message}`))
    }
    this.line(c.bold(this.row('POSITION', 'LENGTH', 'CRC', 'COMPUTED', 'STATUS', 'PAYLOAD')))
  }

  record(r: DumpRecord): void {
    const c = this.o.chalk
    const crc = crcHex(r.crc32)
    const status = r.resynced ? c.yellow(pad('ok (resynced)', W_STATUS)) : c.green(pad('ok', W_STATUS))
    let preview: string
    const room = this.previewWidth()
    if (this.o.decode === 'shardex') {
      const d = decodeShardexTransaction(r.data)
      preview = d.ok ? cut(describeTransaction(d.transaction), room) : c.red(cut(`not a transaction: ${d.reason}; `, room)) + previewPayload(r.data, Math.max(0, room - d.reason.length - 21), this.o.preview)
    } else {
      preview = previewPayload(r.data, room, this.o.preview)
    }
    this.line(this.row(`${r.segment}:${r.offset}`, String(r.length), crc, crc, status, preview, true))
  }

  damage(d: DumpDamage): void {
    const c = this.o.chalk
    if (d.segment === null || d.offset === null) {
      this.line(c.red(`${d.kind}: ${d.message}`))
      return
    }
    const end = d.end ?? d.offset
    let stored = '-'
    let computed = '-'
    if (d.kind === 'crc-mismatch') [stored, computed] = this.crcs(d.file, d.offset)
    const status = c.red(pad(d.kind, W_STATUS))
    const where = end > d.offset ? `${d.segment}:${d.offset}..${end}` : `${d.segment}:${d.offset}`
    this.line(this.row(where, String(end - d.offset), stored, computed, status, c.red(cut(d.message, this.previewWidth())), true))
  }

  warning(p: Problem): void {
    if (p.end === undefined && p.segment !== null && p.offset !== null) return // shown in the header table
    this.line(this.o.chalk.yellow(`warning: ${p.file}: ${p.kind}: ${p.message}`))
  }

  segmentEnd(s: SegmentSummary, counts?: SegmentCounts): void {
    this.line(`${segmentText(s, counts)}: ${this.verdict(s.verdict)}`)
  }

  end(r: DumpResult, counts: WindowCounts = resultCounts(r)): void {
    this.line('')
    this.line(this.o.chalk.bold(`${totalsText(counts)}: ${r.verdict}`))
  }

  private verdict(v: string): string {
    const c = this.o.chalk
    return v === 'clean' ? c.green(v) : v === 'repairable' ? c.yellow(v) : c.red(v)
  }

  private headerTable(s: DumpSegment): string {
    const c = this.o.chalk
    const table = new Table({head: ['field', 'bytes', 'hex', 'value', 'check'], style: {head: [], border: [], compact: true}})
    const raw = this.o.bytes.read(s.file, 0, FIRST_RECORD_OFFSET).bytes
    const h = s.header
    for (const f of FIELDS) {
      const {offset, size} = f.field
      const hex = raw.subarray(offset, offset + size).toString('hex')
      const problems = s.problems.filter((p) => p.offset !== null && p.offset >= offset && p.offset < offset + size && p.kind !== 'size-mismatch' && p.kind !== 'short-file')
      const check = offset + size > s.size
        ? c.red('missing: file too short')
        : problems.length > 0
          ? problems.map((p) => (p.severity === 'warning' ? c.yellow : c.red)(p.kind)).join(', ')
          : !h ? c.dim('not decoded') : f.checked ? c.green('ok') : c.dim('not checked')
      table.push([f.name, `${offset}..${offset + size}`, hex.length > 32 ? (/^0+$/.test(hex) ? `${size} zero bytes` : cut(hex, 32)) : hex, h ? this.value(f.name, offset, s) : '', check])
    }
    return table.toString()
  }

  private value(name: string, offset: number, s: DumpSegment): string {
    const h = s.header!
    switch (name) {
      case 'magic':
        return JSON.stringify(h.magic.toString('latin1'))
      case 'version':
        return String(h.version)
      case 'header_size':
        return String(h.headerSize)
      case 'data_offset':
        return String(h.dataOffset)
      case 'checksum':
        return String(h.checksum)
      case 'created_at':
        return `${h.createdAtUs} (${formatMicros(h.createdAtUs)})`
      case 'modified_at':
        return `${h.modifiedAtUs} (${formatMicros(h.modifiedAtUs)})`
      case 'padding':
        return (offset === FIELD.padding1.offset ? h.padding1 : h.padding2).every((b) => b === 0) ? 'zeros' : 'garbage (Shardex leaves it uninitialised)'
      default:
        return ''
    }
  }

  /** Stored and computed CRC of the record header at `offset`, read again from the file. */
  private crcs(file: string, offset: number): [string, string] {
    const head = this.o.bytes.read(file, offset, offset + RECORD_HEADER_SIZE).bytes
    if (head.length < RECORD_HEADER_SIZE) return ['-', '-']
    const length = head.readUInt32LE(0)
    let crc = 0
    const end = Math.min(offset + RECORD_HEADER_SIZE + length, this.o.bytes.fileSize(file))
    for (let at = offset + RECORD_HEADER_SIZE; at < end; ) {
      const {bytes} = this.o.bytes.read(file, at, end)
      if (bytes.length === 0) break
      crc = zlibCrc32(bytes, crc)
      at += bytes.length
    }
    return [crcHex(head.readUInt32LE(4)), crcHex(crc >>> 0)]
  }

  private line(text: string): void {
    this.o.out.write(text + '\n')
  }

  private previewWidth(): number {
    return Math.max(16, this.o.width - (this.posWidth + W_LENGTH + 2 * W_CRC + W_STATUS + 10))
  }

  private row(pos: string, length: string, crc: string, computed: string, status: string, payload: string, statusPadded = false): string {
    return `${pad(pos, this.posWidth)}  ${pad(length, W_LENGTH, true)}  ${pad(crc, W_CRC)}  ${pad(computed, W_CRC)}  ${statusPadded ? status : pad(status, W_STATUS)}  ${payload}`
  }
}
