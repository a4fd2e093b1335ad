// Standard output for a streaming dump: written synchronously in 64 KiB
// blocks (flat memory whatever the reader's pace), and a reader that goes
// away (`| head`) ends the dump quietly instead of failing.
import * as fs from 'node:fs'
import {fsError} from '../../core/errors.js'

/** The reader closed the pipe: stop writing, exit 0. */
export class PipeClosed extends Error {
  constructor() {
    super('standard output was closed')
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

export class Output {
  private readonly buf: Buffer
  private used = 0

  constructor(private readonly fd = 1, size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size)
  }

  write(text: string): void {
    if (text.length * 3 > this.buf.length - this.used) {
      this.flush()
      if (text.length * 3 > this.buf.length) {
        this.writeAll(Buffer.from(text, 'utf8'))
        return
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8')
  }

  bytes(data: Uint8Array): void {
    if (data.length > this.buf.length - this.used) {
      this.flush()
      if (data.length > this.buf.length) {
        this.writeAll(data)
        return
      }
    }
    this.buf.set(data, this.used)
    this.used += data.length
  }

  flush(): void {
    if (this.used === 0) return
    const n = this.used
    this.used = 0
    this.writeAll(this.buf.subarray(0, n))
  }

  private writeAll(data: Uint8Array): void {
    let done = 0
    while (done < data.length) {
      try {
        done += fs.writeSync(this.fd, data, done, data.length - done)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EPIPE') throw new PipeClosed()
        // A non-blocking stdout (set so by a parent) that is full: wait for the reader.
        if (code === 'EAGAIN') {
          Atomics.wait(sleeper, 0, 0, 5)
          continue
        }
        throw fsError(error, '<stdout>', 'write')
      }
    }
  }
}
