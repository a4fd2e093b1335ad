// The CRC used on every record against the independent `crc` package: the
// JavaScript table loop, zlib's path, and the switch between them.
import {randomBytes} from 'node:crypto'
import {crc32 as zlibCrc32} from 'node:zlib'
import test from 'ava'
import {crc32 as oracle} from 'crc'
import {crc32, crc32Js, crcHex, JS_CRC_MAX} from '../src/core/format/crc.js'

const data = randomBytes(3 * JS_CRC_MAX + 4096)

test('crc32Js equals the oracle for every length from 0 to 3 × the switch point, at unaligned starts', (t) => {
  let checked = 0
  for (let length = 0; length <= 3 * JS_CRC_MAX; length++) {
    const start = (length * 7) % 13
    const want = oracle(data.subarray(start, start + length))
    if (crc32Js(data, start, start + length) !== want) t.fail(`length ${length} at ${start}`)
    if (crc32(data, start, start + length) !== want) t.fail(`crc32 length ${length} at ${start}`)
    checked++
  }
  t.is(checked, 3 * JS_CRC_MAX + 1)
})

test('crc32 agrees with the oracle on both sides of the switch point and on whole buffers', (t) => {
  for (const length of [1, 7, 8, 9, 100, JS_CRC_MAX - 1, JS_CRC_MAX, JS_CRC_MAX + 1, 4096, 65_536, 1 << 20]) {
    const buf = randomBytes(length + 3)
    t.is(crc32(buf, 3, 3 + length), oracle(buf.subarray(3)), `length ${length}`)
    const whole = buf.subarray(3)
    t.is(crc32(whole), oracle(whole), `whole ${length}`)
    t.is(crc32(whole), zlibCrc32(whole) >>> 0, `zlib ${length}`)
  }
})

test('known vectors: the check value of CRC-32/IEEE and the empty string', (t) => {
  const check = Buffer.from('123456789')
  t.is(crc32(check), 0xcbf43926)
  t.is(crc32Js(check, 0, check.length), 0xcbf43926)
  t.is(crc32(Buffer.alloc(0)), 0)
  t.is(crcHex(crc32(check)), 'cbf43926')
  // High bit set: the result is unsigned.
  t.true(crc32(Buffer.from('a')) > 0x7fffffff)
  t.is(crc32(Buffer.from('a')), oracle(Buffer.from('a')))
})

test('all-zero and all-0xff data of every length up to 64 bytes', (t) => {
  for (const fill of [0x00, 0xff]) {
    for (let n = 1; n <= 64; n++) {
      const b = Buffer.alloc(n, fill)
      t.is(crc32Js(b, 0, n), oracle(b), `fill ${fill} length ${n}`)
    }
  }
})
