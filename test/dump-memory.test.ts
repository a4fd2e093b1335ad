// Streaming: a dump whose output is many times the heap it is allowed keeps
// working, so records are written as they are read, never gathered.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from 'crc'
import {encodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {segmentFileName} from '../src/core/format/names.js'
import {BIN} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

const SEGMENT = 8 * 1024 * 1024
const SEGMENTS = 6
const PAYLOAD = 1000

/** A WAL of SEGMENTS full segments of PAYLOAD-byte records, written directly in the Shardex layout. */
function buildLargeWal(): {dir: string; records: number} {
  const dir = path.join(tempDir('walctl-dump-mem-'), 'wal')
  fs.mkdirSync(dir)
  let records = 0
  const created = 1_767_225_600_000_000n
  for (let id = 1; id <= SEGMENTS; id++) {
    const buf = Buffer.alloc(SEGMENT)
    encodeHeader(created).copy(buf, 0)
    let at = FIRST_RECORD_OFFSET
    while (at + 8 + PAYLOAD <= SEGMENT) {
      const payload = buf.subarray(at + 8, at + 8 + PAYLOAD)
      payload.fill(97 + (records % 26))
      payload.write(`record ${records} `)
      buf.writeUInt32LE(PAYLOAD, at)
      buf.writeUInt32LE(crc32(payload), at + 4)
      at += 8 + PAYLOAD
      records++
    }
    fs.writeFileSync(path.join(dir, segmentFileName(id)), buf)
  }
  return {dir, records}
}

test('a 48 MiB WAL dumps as jsonl (about 100 MB of text) with a 40 MB heap limit', (t) => {
  const {dir, records} = buildLargeWal()
  const outFile = path.join(tempDir(), 'dump.jsonl')
  const fd = fs.openSync(outFile, 'w')
  const r = spawnSync(process.execPath, ['--max-old-space-size=40', BIN, 'dump', dir, '--format', 'jsonl'], {stdio: ['ignore', fd, 'pipe'], env: {...process.env, NO_COLOR: '1'}, timeout: 120_000})
  fs.closeSync(fd)
  t.is(r.status, 0, r.stderr?.toString())
  const size = fs.statSync(outFile).size
  t.true(size > 2 * 40 * 1024 * 1024, `output is ${size} bytes, more than twice the heap`)
  // Spot checks: first and last lines, and the count.
  const text = fs.readFileSync(outFile, 'utf8')
  const lines = text.split('\n').filter(Boolean)
  t.is(lines.length, records)
  const last = JSON.parse(lines.at(-1)!) as {segment: number; data: string}
  t.is(last.segment, SEGMENTS)
  t.true(Buffer.from(last.data, 'hex').toString().startsWith(`record ${records - 1} `))
})
