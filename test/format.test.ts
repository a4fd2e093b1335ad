// The format module against Shardex's own bytes, an independent CRC, and docs/FORMAT.md.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32 as oracleCrc32} from 'crc'
import {crc32} from '../src/core/format/crc.js'
import {
  decodeHeader, encodeHeader, FIELD, FIRST_RECORD_OFFSET, HEADER_SIZE, MAGIC, maxPayloadSize, MIN_DATA_OFFSET,
  MIN_SEGMENT_SIZE, RECORD_HEADER_SIZE, VERSION, WAL_RESERVED_SIZE,
} from '../src/core/format/format.js'
import {formatPosition, parsePosition, parseSegmentFileName, segmentFileName} from '../src/core/format/names.js'
import {parseDuration, parseSize} from '../src/core/format/units.js'
import {ROOT} from './helpers/cli.js'
import {fixtureDir, FIXTURE_SETS, loadManifest} from './helpers/fixtures.js'

const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'FORMAT.md'), 'utf8')

test('decodeHeader reads every field of every Shardex fixture segment as its manifest says', (t) => {
  for (const family of ['shardex', 'shardex-garbage-padding'] as const) {
    for (const set of FIXTURE_SETS) {
      const m = loadManifest(set, family)
      for (const seg of m.segments) {
        const h = decodeHeader(fs.readFileSync(path.join(fixtureDir(set, family), seg.file)))
        const want = seg.header as Record<string, string | number>
        t.is(h.magic.toString('hex'), want.magic_hex)
        t.is(h.version, want.version)
        t.is(h.headerSize, want.header_size)
        t.is(Number(h.dataOffset), want.data_offset)
        t.is(h.checksum, want.checksum)
        t.is(h.createdAtUs, BigInt(want.created_at_us))
        t.is(h.modifiedAtUs, BigInt(want.modified_at_us))
        t.is(h.padding1.toString('hex'), want.padding_12_16_hex)
        t.is(h.padding2.toString('hex'), want.padding_28_32_hex)
        t.is(h.walReserved.toString('hex'), want.wal_reserved_80_89_hex)
        t.true(h.reserved.every((b) => b === 0))
      }
    }
  }
})

test('encodeHeader writes Shardex\'s header byte for byte, padding zero', (t) => {
  const file = fs.readFileSync(path.join(fixtureDir('small'), 'wal', 'wal_000001.log'))
  const h = decodeHeader(file)
  t.true(encodeHeader(h.createdAtUs, h.modifiedAtUs).equals(file.subarray(0, FIRST_RECORD_OFFSET)))
  const garbage = fs.readFileSync(path.join(fixtureDir('small', 'shardex-garbage-padding'), 'wal', 'wal_000001.log'))
  const g = decodeHeader(garbage)
  t.false(g.padding1.equals(Buffer.alloc(4)) && g.padding2.equals(Buffer.alloc(4)), 'the fixture does have garbage padding')
  const ours = encodeHeader(g.createdAtUs)
  t.true(ours.subarray(FIELD.padding1.offset, FIELD.padding1.offset + 4).equals(Buffer.alloc(4)))
  t.true(ours.subarray(FIELD.padding2.offset, FIELD.padding2.offset + 4).equals(Buffer.alloc(4)))
})

test('zlib\'s crc32 agrees with the independent crc package on every fixture record and on edge inputs', (t) => {
  for (const set of FIXTURE_SETS) {
    for (const rec of loadManifest(set).records) {
      const data = Buffer.from(rec.hex, 'hex')
      t.is(crc32(data).toString(16).padStart(8, '0'), rec.crc32)
      t.is(crc32(data), oracleCrc32(data) >>> 0)
    }
  }
  for (const data of [Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(65_536, 0xff), Buffer.from('123456789')]) {
    t.is(crc32(data), oracleCrc32(data) >>> 0)
  }
  t.is(crc32(Buffer.from('123456789')), 0xcbf43926, 'the CRC-32/IEEE check value')
  const buf = Buffer.from('xx123456789yy')
  t.is(crc32(buf, 2, 11), 0xcbf43926)
})

test('segment names: wal_{id:06}.log, parsed and formatted in one place', (t) => {
  t.is(segmentFileName(1), 'wal_000001.log')
  t.is(segmentFileName(999_999), 'wal_999999.log')
  t.is(segmentFileName(1_000_000), 'wal_1000000.log')
  t.is(parseSegmentFileName('wal_000001.log'), 1)
  t.is(parseSegmentFileName('wal_1000000.log'), 1_000_000)
  t.is(parseSegmentFileName('wal_4294967295.log'), 4_294_967_295)
  for (const bad of ['wal_0000001.log', 'wal_000000.log', 'wal_1.log', 'wal_000001.log.tmp', 'WAL_000001.log', 'wal_00000a.log', 'wal_4294967296.log']) {
    t.is(parseSegmentFileName(bad), undefined, bad)
  }
})

test('positions are SEGMENT:OFFSET in decimal', (t) => {
  t.is(formatPosition({segment: 3, offset: 89}), '3:89')
  t.deepEqual(parsePosition('3:89'), {segment: 3, offset: 89})
  for (const bad of ['3', ':89', '3:', '0:89', '3:-1', 'a:b', '3:89:1', '0x3:89']) t.is(parsePosition(bad), undefined, bad)
})

test('sizes and durations', (t) => {
  t.is(parseSize('4096'), 4096)
  t.is(parseSize('64KiB'), 65_536)
  t.is(parseSize('1MiB'), 1_048_576)
  t.is(parseSize('1M'), 1_048_576)
  t.is(parseSize('1m'), 1_048_576)
  t.is(parseSize('2G'), 2 * 1024 ** 3)
  for (const bad of ['12XB', '', 'MiB', '1.5M', '-1', '1 2']) t.is(parseSize(bad), undefined, bad)
  t.is(parseDuration('7d'), 7 * 86_400_000)
  t.is(parseDuration('12h'), 12 * 3_600_000)
  t.is(parseDuration('1h30m'), 5_400_000)
  for (const bad of ['', '7', 'd', '7x', '-1d']) t.is(parseDuration(bad), undefined, bad)
})

test('docs/FORMAT.md states the layout the code uses', (t) => {
  const rows = [...DOC.matchAll(/^\| (\d+) \| (\d+|…) \| ([A-Za-z_ ]+?)(?: \(|\s*\|)/gm)].map((m) => ({offset: Number(m[1]), size: m[2], name: m[3].trim()}))
  const byName = (name: string) => rows.filter((r) => r.name === name)
  const expect: Array<[string, {offset: number; size: number}]> = [
    ['magic', FIELD.magic], ['version', FIELD.version], ['header_size', FIELD.headerSize], ['data_offset', FIELD.dataOffset],
    ['checksum', FIELD.checksum], ['created_at', FIELD.createdAt], ['modified_at', FIELD.modifiedAt], ['reserved', FIELD.reserved],
    ['WAL reserved', FIELD.walReserved],
  ]
  for (const [name, field] of expect) {
    const [row] = byName(name)
    t.truthy(row, `row ${name}`)
    t.deepEqual({offset: row.offset, size: Number(row.size)}, {offset: field.offset, size: field.size}, name)
  }
  t.deepEqual(byName('padding').map((r) => [r.offset, Number(r.size)]), [[FIELD.padding1.offset, FIELD.padding1.size], [FIELD.padding2.offset, FIELD.padding2.size]])
  t.deepEqual(byName('records').map((r) => r.offset), [FIRST_RECORD_OFFSET])
  t.is(FIRST_RECORD_OFFSET, HEADER_SIZE + WAL_RESERVED_SIZE)
  t.true(DOC.includes(`The header is ${HEADER_SIZE} bytes`))
  t.true(DOC.includes(`the first record starts at byte **${FIRST_RECORD_OFFSET}**`))
  t.true(DOC.includes(`A record header is ${RECORD_HEADER_SIZE} bytes`))
  t.true(DOC.includes(`\`S - ${FIRST_RECORD_OFFSET} - ${RECORD_HEADER_SIZE}\` bytes of data: ${maxPayloadSize(4096)} bytes in a 4096-byte segment`))
  t.true(DOC.includes(`must be at least ${MIN_DATA_OFFSET}`))
  t.true(DOC.includes(`| version (u32) | ${VERSION} |`))
  t.true(DOC.includes(`(${[...MAGIC].map((b) => b.toString(16)).join(' ')})`))
  t.is(MIN_SEGMENT_SIZE, FIRST_RECORD_OFFSET + RECORD_HEADER_SIZE + 1)
})

test('docs/FORMAT.md\'s worked example is the small fixture\'s bytes, and its records are the manifest\'s', (t) => {
  const block = DOC.slice(DOC.indexOf('## Worked example'))
  const lines = [...block.matchAll(/^([0-9a-f]{8}): ((?:[0-9a-f]{8} ?){4})/gm)]
  t.true(lines.length >= 8)
  const file = fs.readFileSync(path.join(fixtureDir('small'), 'wal', 'wal_000001.log'))
  for (const m of lines) {
    const offset = parseInt(m[1], 16)
    const bytes = Buffer.from(m[2].replace(/ /g, ''), 'hex')
    t.true(file.subarray(offset, offset + 16).equals(bytes), `line ${m[1]}`)
  }
  const manifest = loadManifest('small')
  const [r0, r1, r2] = manifest.records
  t.true(block.includes(`crc32 \`8b9ed9d3\` = 0x${r0.crc32}`))
  t.true(block.includes(`position is \`1:${r0.record_offset}\``))
  t.true(block.includes(`starts at 89 + 8 + 1 = ${r1.record_offset}`) && block.includes(`crc32 0x${r1.crc32}`))
  t.true(block.includes(`98 + 8 + 7 = ${r2.record_offset}`) && block.includes(`crc32 0x${r2.crc32}`) && block.includes(r2.utf8!))
  t.true(block.includes(`the last ends at ${manifest.segments[0].write_pointer}, the write pointer`))
  t.true(block.includes(`= ${decodeHeader(file).createdAtUs} µs`))
})
