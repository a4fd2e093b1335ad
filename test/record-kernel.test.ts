// The record kernel (src/core/format/record-kernel.*): its bytes are what its
// source assembles to, its CRC is zlib's, and a scan through it (a file read
// into its memory) answers exactly as the JavaScript scanner does on the same
// bytes in a plain Buffer, edit by edit, window by window.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32 as zlibCrc32} from 'node:zlib'
import test from 'ava'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../src/core/format/format.js'
import {kernelBuffer, kernelFor, KERNEL_MIN_WINDOW, KERNEL_ZLIB_FROM} from '../src/core/format/record-kernel.js'
import {RECORD_KERNEL_WASM} from '../src/core/format/record-kernel.wasm.js'
import {RecordScanOptions, scanRecords} from '../src/core/format/records.js'
import {FileWindow} from '../src/core/read/file-window.js'
import {tempDir} from './helpers/fixtures.js'
// @ts-expect-error: a plain ESM script of the project's, without typings
import {assembleKernel} from '../scripts/kernel.mjs'

test('record-kernel.wasm.ts is what record-kernel.wat assembles to (npm run kernel)', async (t) => {
  const bytes = (await assembleKernel()) as Buffer
  t.is(RECORD_KERNEL_WASM, bytes.toString('base64'))
})

/** A segment image of `capacity` bytes: records of the given payload lengths from offset 89, then zeros. */
function image(lengths: number[], capacity: number, seed = 1): Buffer {
  const buf = Buffer.alloc(capacity)
  let x = seed
  let at = FIRST_RECORD_OFFSET
  for (const length of lengths) {
    const data = Buffer.allocUnsafe(length)
    for (let i = 0; i < length; i++) {
      x = (x * 1103515245 + 12345) >>> 0
      data[i] = x >>> 24
    }
    buf.writeUInt32LE(length, at)
    buf.writeUInt32LE(zlibCrc32(data), at + 4)
    data.copy(buf, at + RECORD_HEADER_SIZE)
    at += RECORD_HEADER_SIZE + length
  }
  return buf
}

/** Record offsets of an image made by image(). */
function offsets(lengths: number[]): number[] {
  const out: number[] = []
  let at = FIRST_RECORD_OFFSET
  for (const length of lengths) {
    out.push(at)
    at += RECORD_HEADER_SIZE + length
  }
  return out
}

/** The scan of `bytes` as a file read through a window (the kernel's path) and as a Buffer (JavaScript's), visitor calls included. */
function both(bytes: Buffer, windowSize: number, options: RecordScanOptions = {}, stopAfter = Infinity): {kernel: unknown; js: unknown; kernelUsed: boolean} {
  const file = path.join(tempDir('walctl-kernel-'), 'wal_000001.log')
  fs.writeFileSync(file, bytes)
  const fd = fs.openSync(file, 'r')
  const windows: FileWindow[] = []
  const window = (): FileWindow => {
    const w = new FileWindow(fd, bytes.length, file, undefined, windowSize)
    w.load(0)
    windows.push(w)
    return w
  }
  const run = (source: () => Buffer | FileWindow): unknown => {
    const seen: number[][] = []
    const result = scanRecords(source(), {...options, onRecord: (off, len, crc, resynced) => {
      seen.push([off, len, crc, resynced ? 1 : 0])
      return seen.length < stopAfter
    }})
    // Without a visitor the kernel's runs are counted, not walked.
    const counted = scanRecords(source(), options)
    return {result, seen, counted}
  }
  try {
    const kernel = run(window)
    return {kernel, js: run(() => bytes), kernelUsed: windows.every((w) => kernelFor(w.buf) !== undefined)}
  } finally {
    fs.closeSync(fd)
  }
}

test('the kernel checksums as zlib does, every length to past its zlib switch, at every alignment', (t) => {
  const buf = kernelBuffer(KERNEL_MIN_WINDOW)
  const kernel = kernelFor(buf)
  t.truthy(kernel, 'a kernel buffer where WebAssembly runs')
  for (let length = 1; length < KERNEL_ZLIB_FROM + 20; length += length < 300 ? 1 : 37) {
    for (const align of [0, 1, 2, 3, 5]) {
      const lengths = [length]
      const img = image(lengths, FIRST_RECORD_OFFSET + RECORD_HEADER_SIZE + length + 8, length * 7 + align)
      buf.fill(0)
      img.copy(buf, align)
      const stop = kernel!.run(buf, align + FIRST_RECORD_OFFSET, align + img.length)
      if (length < KERNEL_ZLIB_FROM) {
        t.is(kernel!.count, 1, `length ${length} at alignment ${align}`)
        t.is(stop, align + FIRST_RECORD_OFFSET + RECORD_HEADER_SIZE + length)
        // One flipped bit anywhere in the data: not accepted.
        buf[align + FIRST_RECORD_OFFSET + RECORD_HEADER_SIZE + ((length * 13) % length)] ^= 0x10
        t.is(kernel!.run(buf, align + FIRST_RECORD_OFFSET, align + img.length), align + FIRST_RECORD_OFFSET)
        t.is(kernel!.count, 0)
      } else {
        t.is(kernel!.count, 0, 'left to zlib')
        t.is(stop, align + FIRST_RECORD_OFFSET)
      }
    }
  }
})

const LENGTHS = Array.from({length: 400}, (_, i) => [100, 1, 7, 255, 256, KERNEL_ZLIB_FROM - 1, KERNEL_ZLIB_FROM, 3000, 16, 17][i % 10])
const CAPACITY = 64 * 1024

// Named byte edits, each scanned both ways: what survives must be the same.
const EDITS: Array<[string, (b: Buffer, at: number[]) => void]> = [
  ['clean', () => {}],
  ['a flipped data byte in record 50', (b, at) => { b[at[50] + 12] ^= 1 }],
  ['a flipped CRC byte in record 3', (b, at) => { b[at[3] + 4] ^= 0x80 }],
  ['a zero length in record 120 (records after it)', (b, at) => { b.writeUInt32LE(0, at[120]) }],
  ['a length running past the segment in record 200', (b, at) => { b.writeUInt32LE(CAPACITY, at[200]) }],
  ['a length of 2^32 - 1 in record 201', (b, at) => { b.writeUInt32LE(0xffffffff, at[201]) }],
  ['a length one short in record 77', (b, at) => { b.writeUInt32LE(b.readUInt32LE(at[77]) - 1, at[77]) }],
  ['a length one long in the last record', (b, at) => { b.writeUInt32LE(b.readUInt32LE(at[399]) + 1, at[399]) }],
  ['the kernel-sized record 5 damaged, the zlib-sized record 6 intact', (b, at) => { b[at[5] + 20] ^= 0xff }],
  ['debris after the last record', (b, at) => { b[at[399] + 8 + b.readUInt32LE(at[399]) + 40] = 1 }],
  ['a torn tail: the last record cut in half', (b, at) => { b.fill(0, at[399] + 8 + (b.readUInt32LE(at[399]) >> 1), CAPACITY) }],
]

for (const [name, edit] of EDITS) {
  test(`kernel and JavaScript scans agree: ${name}`, (t) => {
    const at = offsets(LENGTHS)
    const total = at.at(-1)! + RECORD_HEADER_SIZE + LENGTHS.at(-1)!
    const capacity = Math.max(CAPACITY, total + 1024)
    const img = image(LENGTHS, capacity)
    edit(img, at)
    // The whole file in one window, then windows that cut records (and force reloads and streamed CRCs).
    for (const windowSize of [capacity, KERNEL_MIN_WINDOW, KERNEL_MIN_WINDOW + 3001]) {
      const {kernel, js, kernelUsed} = both(img, windowSize)
      t.true(kernelUsed)
      t.deepEqual(kernel, js, `window ${windowSize}`)
    }
  })
}

test('a small window is a plain Buffer: a kernel would cost more to set up than it saves', (t) => {
  t.is(kernelFor(kernelBuffer(KERNEL_MIN_WINDOW - 1)), undefined)
  t.is(kernelFor(kernelBuffer(0)), undefined)
  t.truthy(kernelFor(kernelBuffer(KERNEL_MIN_WINDOW)))
})

test('kernel and JavaScript scans agree when the visitor stops inside a run the kernel walked', (t) => {
  const lengths = Array.from({length: 300}, () => 100)
  const img = image(lengths, 64 * 1024)
  for (const stopAfter of [1, 2, 150, 299, 300]) {
    const {kernel, js} = both(img, img.length, {}, stopAfter)
    t.deepEqual(kernel, js, `stop after ${stopAfter}`)
    t.is((kernel as {seen: unknown[]}).seen.length, stopAfter)
  }
})
