// firstNonZero and lastNonZeroEnd skip zeros a block at a time: they must
// answer exactly as a byte-by-byte loop does, wherever the non-zero bytes are.
import {randomInt} from 'node:crypto'
import test from 'ava'
import {firstNonZero, lastNonZeroEnd} from '../src/core/format/records.js'

function naiveFirst(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return i
  return -1
}

function naiveLastEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (buf[i] !== 0) return i + 1
  return -1
}

const SIZE = 300 * 1024 + 77

test('every single non-zero byte position near block and window edges is found from both ends', (t) => {
  const buf = Buffer.alloc(SIZE)
  const spots = [0, 1, 255, 256, 257, 65_535, 65_536, 65_537, 65_536 + 256, 131_072 + 255, SIZE - 257, SIZE - 256, SIZE - 1]
  for (const spot of spots) {
    buf[spot] = 1 + (spot % 255)
    for (const [from, to] of [[0, SIZE], [1, SIZE - 1], [spot, spot + 1], [Math.max(0, spot - 300), Math.min(SIZE, spot + 70_000)], [spot + 1, SIZE]]) {
      if (firstNonZero(buf, from, to) !== naiveFirst(buf, from, to)) t.fail(`first: spot ${spot}, range ${from}..${to}`)
      if (lastNonZeroEnd(buf, from, to) !== naiveLastEnd(buf, from, to)) t.fail(`last: spot ${spot}, range ${from}..${to}`)
    }
    buf[spot] = 0
  }
  t.is(firstNonZero(buf, 0, SIZE), -1)
  t.is(lastNonZeroEnd(buf, 0, SIZE), -1)
})

test('random sparse buffers and random ranges agree with the byte loop', (t) => {
  for (let round = 0; round < 40; round++) {
    const buf = Buffer.alloc(SIZE)
    const n = randomInt(0, 4)
    for (let k = 0; k < n; k++) buf[randomInt(0, SIZE)] = randomInt(1, 256)
    for (let r = 0; r < 50; r++) {
      const a = randomInt(0, SIZE + 1)
      const b = randomInt(0, SIZE + 1)
      const [from, to] = a <= b ? [a, b] : [b, a]
      t.is(firstNonZero(buf, from, to), naiveFirst(buf, from, to))
      t.is(lastNonZeroEnd(buf, from, to), naiveLastEnd(buf, from, to))
    }
  }
})

test('empty and inverted ranges find nothing; a view into a larger buffer is respected', (t) => {
  const big = Buffer.alloc(200_000)
  big[10] = 9
  big[199_990] = 9
  const view = big.subarray(100, 199_900)
  t.is(firstNonZero(view, 0, view.length), -1)
  t.is(lastNonZeroEnd(view, 0, view.length), -1)
  t.is(firstNonZero(big, 5, 5), -1)
  t.is(firstNonZero(big, 7, 3), -1)
  t.is(lastNonZeroEnd(big, 7, 3), -1)
  t.is(firstNonZero(big, 11, big.length), 199_990)
  t.is(lastNonZeroEnd(big, 0, 199_990), 11)
})
