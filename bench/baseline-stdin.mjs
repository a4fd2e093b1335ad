// The floor for `walctl append --stdin`: a bare Node process that reads
// standard input, splits it into lines, checksums each with zlib and writes
// one position line per record, with no WAL, no flags, no framework.
import {crc32} from 'node:zlib'

let carry = Buffer.alloc(0)
let n = 0
let acc = 0
const out = []
for await (const chunk of process.stdin) {
  const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk
  let start = 0
  let text = ''
  for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
    acc ^= crc32(buf.subarray(start, nl))
    text += `1:${89 + n * 108}\n`
    n++
    start = nl + 1
  }
  carry = Buffer.from(buf.subarray(start))
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r))
}
void out
process.stderr.write(`${n} ${acc}\n`)
