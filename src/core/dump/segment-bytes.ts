// Reads byte ranges of a segment file again (for damaged regions and their
// context), read-only, one open descriptor at a time.
import * as fs from 'node:fs'
import {fsError} from '../errors.js'
import {readAt} from '../fs/files.js'

export class SegmentBytes {
  private fd?: number
  private file?: string
  private size = 0

  /** Bytes `[from, to)` of `file`, clipped to the file; at most `max` bytes. */
  read(file: string, from: number, to: number, max = 1 << 20): {offset: number; bytes: Buffer} {
    this.open(file)
    const start = Math.max(0, Math.min(from, this.size))
    const end = Math.max(start, Math.min(to, this.size, start + max))
    return {offset: start, bytes: end > start ? readAt(this.fd!, start, end - start) : Buffer.alloc(0)}
  }

  fileSize(file: string): number {
    this.open(file)
    return this.size
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd)
    this.fd = undefined
    this.file = undefined
  }

  private open(file: string): void {
    if (this.file === file && this.fd !== undefined) return
    this.close()
    try {
      this.fd = fs.openSync(file, 'r')
      this.size = fs.fstatSync(this.fd).size
    } catch (error) {
      throw fsError(error, file, 'open for reading')
    }
    this.file = file
  }
}
