// Reading a file that becomes one record (`append --file`): whatever a path
// names for reading (a regular file, a FIFO, `<(cmd)`, a character device),
// never more than the largest record plus one byte, and never blocking on
// open: a FIFO is opened without waiting for a writer, then read as its data
// comes. Reading through a symbolic link is fine: the file is only read.
import * as fs from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'
import {ExitCode, fsError, WalError} from '../errors.js'

export type FileRecord = {
  /** A regular file (else a FIFO, a device...: what it gave until its end). */
  regular: boolean
} & (
  | {data: Buffer; tooLarge?: undefined}
  /** Larger than allowed: `length` bytes are in the file (`exact`), or that many were read before stopping. */
  | {data?: undefined; tooLarge: {length: number; exact: boolean}}
)

const FIRST_CHUNK = 64 * 1024
const MAX_IDLE_MS = 50

export async function readRecordFile(file: string, max: number): Promise<FileRecord> {
  const {O_RDONLY, O_NONBLOCK, O_NOCTTY} = fs.constants
  let handle: fs.promises.FileHandle
  try {
    handle = await fs.promises.open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY)
  } catch (error) {
    throw fsError(error, file, 'read')
  }
  try {
    const st = await handle.stat()
    if (st.isDirectory()) throw new WalError(ExitCode.NO_INPUT, 'is a directory, expected a file', {file})
    // A regular file's size is believed only to refuse it unread: /proc files say 0 and have data, others grow.
    const regular = st.isFile()
    if (regular && st.size > max) return {regular, tooLarge: {length: st.size, exact: true}}
    const cap = max + 1
    let buf = Buffer.allocUnsafe(Math.min(cap, Math.max(FIRST_CHUNK, regular ? st.size + 1 : 0)))
    let length = 0
    let idleMs = 0
    while (length < cap) {
      if (length === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(cap, buf.length * 2))
        buf.copy(bigger, 0, 0, length)
        buf = bigger
      }
      let n: number
      try {
        n = (await handle.read(buf, length, buf.length - length, null)).bytesRead
      } catch (error) {
        // A pipe or terminal with a writer and no data yet: wait for it without holding a thread.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw fsError(error, file, 'read')
        idleMs = Math.min(MAX_IDLE_MS, idleMs * 2 || 1)
        await sleep(idleMs)
        continue
      }
      if (n === 0) break
      idleMs = 0
      length += n
    }
    if (length > max) return {regular, tooLarge: {length, exact: false}}
    return {regular, data: buf.subarray(0, length)}
  } finally {
    await handle.close()
  }
}
