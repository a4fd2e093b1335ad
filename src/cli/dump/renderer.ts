// What every dump renderer is: a visitor of the dump's stream with a
// beginning and an end, writing to one Output.
import {ChalkInstance} from 'chalk'
import {DumpResult, DumpTarget, DumpVisitor} from '../../core/dump/walk.js'
import {SegmentBytes} from '../../core/dump/segment-bytes.js'
import {Output} from './output.js'

export const DUMP_FORMATS = ['table', 'jsonl', 'json', 'hex', 'raw'] as const
export type DumpFormat = (typeof DUMP_FORMATS)[number]
export const DATA_ENCODINGS = ['hex', 'base64', 'utf8'] as const
export type DataEncoding = (typeof DATA_ENCODINGS)[number]

export interface RenderOptions {
  out: Output
  encoding: DataEncoding
  decode?: 'shardex'
  /** Bytes of context shown around each damaged region (hex). */
  context: number
  chalk: ChalkInstance
  /** Terminal width for the table's payload preview. */
  width: number
  /** Re-reads damaged bytes, read-only. */
  bytes: SegmentBytes
  /** Only damaged regions are wanted (raw then writes their bytes). */
  damagedOnly?: boolean
}

export interface DumpRenderer extends DumpVisitor {
  begin(target: DumpTarget): void
  end(result: DumpResult): void
}
