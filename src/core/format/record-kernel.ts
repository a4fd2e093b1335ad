// The record kernel (record-kernel.wat): the scanner's hot path in
// WebAssembly. A run of valid records is walked and checksummed in one call,
// at about 2.5 times the records per second of the JavaScript loop for 100 B
// records (docs/PERFORMANCE.md), with the same answer: it stops at the first
// record it does not accept, and the JavaScript scanner decides what that is.
// It reads only its own memory, so the bytes must be read into it: a reader
// asks for its window here (kernelBuffer) and the scanner finds the kernel
// behind it (kernelFor).
import {CRC_TABLES} from './crc.js'
import {RECORD_KERNEL_WASM} from './record-kernel.wasm.js'

/** Where the bytes to scan start in a kernel's memory (below: the tables and the count). */
const DATA = 65536
const COUNT = 16384
const PAGE = 65536
/**
 * Records this long or longer are left to the caller: zlib's crc32 (a few
 * GB/s after a fixed cost per call) beats the kernel's tables from about here.
 */
export const KERNEL_ZLIB_FROM = 1536

let compiled: WebAssembly.Module | undefined | null

function module(): WebAssembly.Module | undefined {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(RECORD_KERNEL_WASM, 'base64'))
    } catch {
      // No WebAssembly here (a runtime started with it disabled): the scanner's JavaScript loop does the work.
      compiled = null
    }
  }
  return compiled ?? undefined
}

export class RecordKernel {
  /** Records walked by the last run. */
  count = 0
  private readonly words: Int32Array
  private readonly exec: (p: number, lim: number, big: number) => number

  constructor(memory: WebAssembly.Memory, mod: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(mod, {env: {memory}})
    this.exec = instance.exports.run as (p: number, lim: number, big: number) => number
    this.words = new Int32Array(memory.buffer, 0, (DATA >>> 2))
    this.words.set(CRC_TABLES)
  }

  /**
   * Walks valid records in `buf[from, to)` (buf one of this kernel's buffers):
   * each whole before `to`, of a length from 1 to under KERNEL_ZLIB_FROM, its
   * CRC matching. Returns the index it stopped at; `count` says how many.
   */
  run(buf: Uint8Array, from: number, to: number): number {
    const o = buf.byteOffset
    const stop = this.exec(o + from, o + to, KERNEL_ZLIB_FROM) - o
    this.count = this.words[COUNT >>> 2]
    return stop
  }
}

const kernels = new WeakMap<ArrayBufferLike, RecordKernel>()

/**
 * Below this a window is a plain Buffer: a kernel costs about 70 µs to set
 * up (its memory, an instance, the tables), more than it saves on so few
 * records, and a WAL of thousands of small segments would pay it for each.
 */
export const KERNEL_MIN_WINDOW = 64 * 1024

/**
 * A Buffer of `size` bytes that the kernel can scan in place (a reader's
 * window), or a plain one where there is no WebAssembly or the window is small.
 */
export function kernelBuffer(size: number): Buffer {
  const mod = size >= KERNEL_MIN_WINDOW ? module() : undefined
  if (!mod) return Buffer.allocUnsafe(size)
  const memory = new WebAssembly.Memory({initial: Math.ceil((DATA + size) / PAGE)})
  kernels.set(memory.buffer, new RecordKernel(memory, mod))
  return Buffer.from(memory.buffer, DATA, size)
}

/** The kernel that can scan `buf` in place, if it is one of kernelBuffer's. */
export function kernelFor(buf: Uint8Array): RecordKernel | undefined {
  return kernels.get(buf.buffer)
}
