// Turning an input stream into records: one record per line, per hex or
// base64 line, or the whole stream as one. Errors name the line. Memory stays
// within one record's limit whatever the input: see RecordSplitterOptions.limit.
import * as fs from 'node:fs'
import {ExitCode, WalError} from '../errors.js'
import {DecodeError, decodeBase64, decodeHex, trimBlanks} from './decode.js'
import {RecordLimit, stoppedReason, tooLargeReason} from './limit.js'

export type InputFormat = 'lines' | 'hex' | 'base64' | 'raw'
export const INPUT_FORMATS: readonly InputFormat[] = ['lines', 'hex', 'base64', 'raw']

export interface RecordSplitterOptions {
  format: InputFormat
  skipEmpty?: boolean
  /** Named in error messages. */
  source?: string
  /**
   * The largest record: one larger is refused as soon as that is known, so
   * that no more of it is held than the limit allows (a line is dropped once
   * it is longer than any encoding of a record within the limit, raw input
   * once it passes the limit). Without it records of any size pass.
   */
  limit?: RecordLimit
  /**
   * For the `lines` format: receives each record as a range of the chunk
   * instead of a Buffer view, so that no object is made per record (the hot
   * path of `append --stdin`). `buf[start, end)` is valid only during the call.
   */
  onRange?: (buf: Buffer, start: number, end: number, line: number) => void
}

/** Room for blanks around an encoded record on its line (a CR, trailing spaces). */
const BLANK_ROOM = 64

/**
 * Splits chunks of input into records and hands each to `emit` as soon as it
 * is complete. Line records are views into the chunk, valid only during the
 * call: `emit` must copy (appending to a segment does).
 */
export class RecordSplitter {
  private readonly format: InputFormat
  private readonly skipEmpty: boolean
  private readonly source: string
  private readonly limit: RecordLimit | undefined
  private readonly max: number
  /** The longest line that may still hold a record within the limit. */
  private readonly lineCap: number
  private readonly onRange: RecordSplitterOptions['onRange']
  /** The start of a line not yet ended, in pieces (a long line across many chunks is joined once, at its end). */
  private carry: Buffer[] = []
  private carryLength = 0
  private rawParts: Buffer[] = []
  private rawLength = 0
  private line = 0

  constructor(options: RecordSplitterOptions, private readonly emit: (record: Buffer, line: number) => void) {
    this.format = options.format
    this.skipEmpty = options.skipEmpty ?? false
    this.source = options.source ?? '<stdin>'
    this.limit = options.limit
    this.max = options.limit?.max ?? Number.POSITIVE_INFINITY
    this.lineCap = encodedLength(this.format, this.max) + (this.format === 'hex' || this.format === 'base64' ? BLANK_ROOM : 0)
    this.onRange = options.format === 'lines' ? options.onRange : undefined
  }

  /** Lines read so far. */
  get lines(): number {
    return this.line
  }

  push(chunk: Buffer): void {
    if (this.format === 'raw') {
      this.pushRaw(chunk)
      return
    }
    const buf = chunk
    let start = 0
    if (this.carry.length > 0) {
      // Only the line that straddles the chunks is joined, not the whole chunk.
      const nl = buf.indexOf(10)
      const length = this.carryLength + (nl < 0 ? buf.length : nl)
      if (length > this.lineCap) throw this.lineTooLong(length)
      if (nl < 0) {
        this.carry.push(Buffer.from(buf))
        this.carryLength = length
        return
      }
      this.carry.push(buf.subarray(0, nl))
      const line = Buffer.concat(this.carry, length)
      this.carry = []
      this.carryLength = 0
      this.take(line)
      start = nl + 1
    }
    const onRange = this.onRange
    if (onRange) {
      const max = this.max
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        this.line++
        if (nl - start > max) throw this.tooLarge(nl - start)
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
    if (start < buf.length) {
      const rest = buf.length - start
      if (rest > this.lineCap) throw this.lineTooLong(rest)
      this.carry.push(Buffer.from(buf.subarray(start)))
      this.carryLength = rest
    }
  }

  /** Ends the input: a last line without its newline still counts. */
  end(): void {
    if (this.format === 'raw') {
      const all = Buffer.concat(this.rawParts, this.rawLength)
      this.rawParts = []
      if (all.length === 0) throw new WalError(ExitCode.DATA, 'standard input is empty: nothing to append as a raw record', {file: this.source})
      this.emit(all, 1)
      return
    }
    if (this.carry.length > 0) {
      const rest = Buffer.concat(this.carry, this.carryLength)
      this.carry = []
      this.carryLength = 0
      this.take(rest)
    }
  }

  private pushRaw(chunk: Buffer): void {
    const length = this.rawLength + chunk.length
    if (length > this.max) throw new WalError(ExitCode.DATA, stoppedReason(this.limit!, length), {file: this.source})
    this.rawParts.push(chunk)
    this.rawLength = length
  }

  private take(line: Buffer): void {
    this.line++
    if (this.format === 'lines') {
      if (line.length === 0) {
        if (this.skipEmpty) return
        throw this.error('empty line: a record cannot be empty (use --skip-empty to skip empty lines)')
      }
      if (line.length > this.max) throw this.tooLarge(line.length)
      if (this.onRange) this.onRange(line, 0, line.length, this.line)
      else this.emit(line, this.line)
      return
    }
    const [start, end] = trimBlanks(line, 0, line.length)
    if (start === end) {
      if (this.skipEmpty) return
      throw this.error('empty line: a record cannot be empty (use --skip-empty to skip empty lines)')
    }
    let record: Buffer
    try {
      record = this.format === 'hex' ? decodeHex(line, start, end, 0) : decodeBase64(line, start, end, 0)
    } catch (error) {
      throw error instanceof DecodeError ? this.error(error.message) : error
    }
    if (record.length > this.max) throw this.tooLarge(record.length)
    this.emit(record, this.line)
  }

  private error(reason: string, line = this.line): WalError {
    return new WalError(ExitCode.DATA, `line ${line}: ${reason}`, {file: this.source})
  }

  private tooLarge(length: number): WalError {
    return this.error(tooLargeReason(this.limit!, length))
  }

  /** The line not yet ended (the next one) is already longer than any record within the limit. */
  private lineTooLong(read: number): WalError {
    const unit = this.format === 'lines' ? 'bytes' : `characters of ${this.format}`
    return this.error(stoppedReason(this.limit!, read, unit), this.line + 1)
  }
}

/** Characters of `format` that encode `bytes` bytes. */
function encodedLength(format: InputFormat, bytes: number): number {
  if (format === 'hex') return 2 * bytes
  if (format === 'base64') return 4 * Math.ceil(bytes / 3)
  return bytes
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
