// Turning an input stream into records: one record per line, per hex or
// base64 line, or the whole stream as one. Errors name the line.
import * as fs from 'node:fs'
import {ExitCode, WalError} from './errors.js'

export type InputFormat = 'lines' | 'hex' | 'base64' | 'raw'
export const INPUT_FORMATS: readonly InputFormat[] = ['lines', 'hex', 'base64', 'raw']

export interface RecordSplitterOptions {
  format: InputFormat
  skipEmpty?: boolean
  /** Named in error messages. */
  source?: string
  /**
   * For the `lines` format: receives each record as a range of the chunk
   * instead of a Buffer view, so that no object is made per record (the hot
   * path of `append --stdin`). `buf[start, end)` is valid only during the call.
   */
  onRange?: (buf: Buffer, start: number, end: number, line: number) => void
}

const HEX_LINE = /^(?:[0-9a-fA-F]{2})*$/
const BASE64_LINE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Splits chunks of input into records and hands each to `emit` as soon as it
 * is complete. Line records are views into the chunk, valid only during the
 * call: `emit` must copy (appending to a segment does).
 */
export class RecordSplitter {
  private readonly format: InputFormat
  private readonly skipEmpty: boolean
  private readonly source: string
  private readonly onRange: RecordSplitterOptions['onRange']
  /** The start of a line not yet ended, in pieces (a long line across many chunks is joined once, at its end). */
  private carry: Buffer[] = []
  private rawParts: Buffer[] = []
  private line = 0

  constructor(options: RecordSplitterOptions, private readonly emit: (record: Buffer, line: number) => void) {
    this.format = options.format
    this.skipEmpty = options.skipEmpty ?? false
    this.source = options.source ?? '<stdin>'
    this.onRange = options.format === 'lines' ? options.onRange : undefined
  }

  /** Lines read so far. */
  get lines(): number {
    return this.line
  }

  push(chunk: Buffer): void {
    if (this.format === 'raw') {
      this.rawParts.push(chunk)
      return
    }
    const buf = chunk
    let start = 0
    if (this.carry.length > 0) {
      // Only the line that straddles the chunks is joined, not the whole chunk.
      const nl = buf.indexOf(10)
      if (nl < 0) {
        this.carry.push(Buffer.from(buf))
        return
      }
      this.carry.push(buf.subarray(0, nl))
      const line = Buffer.concat(this.carry)
      this.carry = []
      this.take(line)
      start = nl + 1
    }
    const onRange = this.onRange
    if (onRange) {
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        this.line++
        if (nl > start) onRange(buf, start, nl, this.line)
        else if (!this.skipEmpty) throw this.error('empty line: a record cannot be empty (use --skip-empty to skip empty lines)')
        start = nl + 1
      }
    } else {
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        this.take(buf.subarray(start, nl))
        start = nl + 1
      }
    }
    if (start < buf.length) this.carry.push(Buffer.from(buf.subarray(start)))
  }

  /** Ends the input: a last line without its newline still counts. */
  end(): void {
    if (this.format === 'raw') {
      const all = Buffer.concat(this.rawParts)
      this.rawParts = []
      if (all.length === 0) throw new WalError(ExitCode.DATA, 'standard input is empty: nothing to append as a raw record', {file: this.source})
      this.emit(all, 1)
      return
    }
    if (this.carry.length > 0) {
      const rest = Buffer.concat(this.carry)
      this.carry = []
      this.take(rest)
    }
  }

  private take(line: Buffer): void {
    this.line++
    if (this.format === 'lines') {
      if (line.length === 0) {
        if (this.skipEmpty) return
        throw this.error('empty line: a record cannot be empty (use --skip-empty to skip empty lines)')
      }
      if (this.onRange) this.onRange(line, 0, line.length, this.line)
      else this.emit(line, this.line)
      return
    }
    const text = line.toString('latin1').trim()
    if (text.length === 0) {
      if (this.skipEmpty) return
      throw this.error('empty line: a record cannot be empty (use --skip-empty to skip empty lines)')
    }
    if (this.format === 'hex') {
      if (!HEX_LINE.test(text)) throw this.error('not hex: expected an even number of hex digits')
      this.emit(Buffer.from(text, 'hex'), this.line)
    } else {
      if (!BASE64_LINE.test(text)) throw this.error('not base64: expected standard base64 with padding')
      this.emit(Buffer.from(text, 'base64'), this.line)
    }
  }

  private error(reason: string): WalError {
    return new WalError(ExitCode.DATA, `line ${this.line}: ${reason}`, {file: this.source})
  }
}

/**
 * Standard input as a stream of chunks. A regular file (`< file`) is read in
 * 1 MiB chunks instead of process.stdin's 64 KiB, a sixteenth of the round
 * trips through the thread pool; pipes and terminals are process.stdin.
 */
export function stdinChunks(): AsyncIterable<Buffer> {
  let file = false
  try {
    file = fs.fstatSync(0).isFile()
  } catch {
    // No usable descriptor 0: let process.stdin report it.
  }
  if (!file) return process.stdin as AsyncIterable<Buffer>
  return fs.createReadStream('', {fd: 0, highWaterMark: 1024 * 1024, autoClose: false, start: undefined})
}
