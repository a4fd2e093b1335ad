// What every dump renderer is: a visitor of the dump's stream with a
// beginning and an end, writing to one Output.
import {ChalkInstance} from 'chalk'
import {DumpResult, DumpTarget} from '../../core/dump/walk.js'
import {WindowCounts, WindowSink} from '../../core/dump/window.js'
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
  /** raw writes the bytes of damaged regions too (--damaged-only, or --offset selecting one). */
  rawDamage?: boolean
  /** The table's payload column in this encoding (--encoding given); text or hex, named, when unset. */
  preview?: DataEncoding
}

export interface DumpRenderer extends WindowSink {
  begin(target: DumpTarget): void
  /** `counts` from the dump's window; without it, the result's own. */
  end(result: DumpResult, counts?: WindowCounts): void
}
