// walctl explain: Shardex's own error messages mapped to the segment and offset
// they mean, what walctl sees there, and the repair, through real processes.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {walctl} from './helpers/cli.js'
import {buildWal, segPath, u32le, u64le, writeBytes, zeroRange} from './helpers/corrupt.js'
import {snapshot} from './helpers/fixtures.js'
import {FIELD} from '../src/core/format/format.js'
import {parseShardexMessage} from '../src/core/explain/shardex-messages.js'
import {ROOT} from './helpers/cli.js'
import {checkShape, parseTypes} from './helpers/json-shape.js'

const types = parseTypes(fs.readFileSync(path.join(ROOT, 'docs', 'JSON.md'), 'utf8'))

interface ExplainJson {
  kind: string
  segment: number | null
  file: string | null
  offset: number | null
  found: Array<{kind: string; offset: number | null; severity: string}>
  sees: string
  verdict: string
  repair: string[]
  advice: string | null
}

function explainJson(dir: string, message: string): ExplainJson {
  const r = walctl(['explain', dir, message, '--json'])
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stdout}${r.stderr}`)
  const value = JSON.parse(r.stdout) as ExplainJson
  const problems = checkShape(value, types.get('Explain')!, types)
  if (problems.length > 0) throw new Error(`not the shape of docs/JSON.md: ${problems.join('; ')}`)
  return value
}

test('a torn last record: the newest segment and offset, the crc problem there, and the repair', (t) => {
  const wal = buildWal(20)
  const last = wal.positions[19]
  // Tear record 19 (the last, in segment 3): half its data gone.
  zeroRange(segPath(wal, 3), last.offset + 8 + 20, last.offset + 48)
  const before = snapshot(wal.dir)
  const msg = `Write-ahead log error: Failed to recover latest segment 3: Write-ahead log error: Corrupted record found at position ${last.offset} during recovery. Consider segment cleanup or configuration check.`
  const e = explainJson(wal.dir, msg)
  t.is(e.kind, 'corrupted-record')
  t.is(e.segment, 3)
  t.is(e.file, segPath(wal, 3))
  t.is(e.offset, last.offset)
  t.deepEqual(e.found.map((p) => [p.kind, p.offset, p.severity]), [['crc-mismatch', last.offset, 'repairable']])
  t.is(e.verdict, 'repairable')
  t.deepEqual(e.repair, [`walctl recover '${wal.dir}' --dry-run`, `walctl recover '${wal.dir}'`, `walctl verify '${wal.dir}'`])
  t.deepEqual(snapshot(wal.dir), before, 'explain changes nothing')

  const human = walctl(['explain', wal.dir, msg])
  t.is(human.code, 0, human.stderr)
  t.regex(human.stdout, /^where: {3}wal_000003\.log offset \d+ \(segment 3, /m)
  t.regex(human.stdout, /^walctl: {2}wal_000003\.log: offset \d+\.\.\d+ crc-mismatch \(repairable\)/m)
  t.regex(human.stdout, /^repair: {2}walctl recover .* --dry-run$/m)
  // The repair it names works.
  t.is(walctl(['recover', wal.dir]).code, 0)
  const after = explainJson(wal.dir, msg)
  t.is(after.found.length, 0)
  t.is(after.verdict, 'clean')
  t.deepEqual(after.repair, [])
})

test('without "latest segment N" the newest segment is meant, as Shardex opens only that one', (t) => {
  const wal = buildWal(20)
  zeroRange(segPath(wal, 3), wal.positions[18].offset + 10, wal.positions[18].offset + 20)
  const e = explainJson(wal.dir, `Corrupted record found at position ${wal.positions[18].offset} during recovery`)
  t.is(e.segment, 3)
  t.is(e.found[0]?.kind, 'crc-mismatch')
})

test('a creation timestamp in the future: the segment whose header holds it, field offset 32', (t) => {
  const wal = buildWal(20)
  const future = 4_102_444_800_000_000n // 2100-01-01
  writeBytes(segPath(wal, 2), FIELD.createdAt.offset, u64le(future))
  writeBytes(segPath(wal, 2), FIELD.modifiedAt.offset, u64le(future))
  const e = explainJson(wal.dir, `Index corruption detected: Creation timestamp ${future} is in the future`)
  t.is(e.kind, 'future-created')
  t.is(e.segment, 2)
  t.is(e.offset, FIELD.createdAt.offset)
  t.true(e.found.some((p) => p.kind === 'future-timestamp' && p.offset === FIELD.createdAt.offset))
  t.true(e.repair.some((c) => c.startsWith('walctl recover')))
})

test('header fields: magic, header size, version name the segment and the field', (t) => {
  const wal = buildWal(20)
  writeBytes(segPath(wal, 3), FIELD.headerSize.offset, u32le(96))
  const e = explainJson(wal.dir, 'Failed to recover latest segment 3: Index corruption detected: Invalid header size: expected 80, found 96')
  t.is(e.kind, 'bad-header-size')
  t.is(e.segment, 3)
  t.is(e.offset, FIELD.headerSize.offset)
  t.deepEqual(e.found.map((p) => p.kind), ['bad-header-size'])
  t.is(e.verdict, 'damaged')
  t.true(e.repair.includes(`walctl recover '${wal.dir}' --dry-run --mode point-in-time`))
})

test('segment full: no damage; a record larger than any segment can hold is named as such', (t) => {
  const wal = buildWal(20)
  const fits = explainJson(wal.dir, 'Segment full: cannot append record of 48 bytes (header 8 + data 40), only 39 bytes remaining')
  t.is(fits.kind, 'segment-full')
  t.deepEqual(fits.repair, [])
  t.regex(fits.advice ?? '', /not damage/)
  const never = explainJson(wal.dir, 'Segment full: cannot append record of 1008 bytes (header 8 + data 1000), only 39 bytes remaining')
  t.regex(never.advice ?? '', /can never fit: a segment of 512 bytes holds at most 415 bytes/)
})

test('a segment the WAL does not have, an offset with a valid record, an unknown message', (t) => {
  const wal = buildWal(20)
  const missing = explainJson(wal.dir, 'Failed to recover latest segment 9: Corrupted record found at position 89 during recovery')
  t.regex(missing.sees, /there is no wal_000009\.log/)
  const valid = explainJson(wal.dir, `Corrupted record found at position ${wal.positions[16].offset} during recovery`)
  t.regex(valid.sees, /a valid record starts at offset/)
  t.deepEqual(valid.repair, [])
  const unknown = walctl(['explain', wal.dir, 'something else entirely'])
  t.is(unknown.code, 64)
  t.regex(unknown.stderr, /^walctl: not a Shardex WAL error message walctl knows: "something else entirely"; known: Corrupted record found at position N/)
  t.is(unknown.stderr.split('\n').length, 2, 'one line')
  const gone = walctl(['explain', path.join(wal.dir, 'nope'), 'Corrupted record found at position 89'])
  t.is(gone.code, 66)
})

test('suggested commands quote paths for a POSIX shell', (t) => {
  const wal = buildWal(20)
  const odd = path.join(path.dirname(wal.dir), "it's $(x) wal")
  fs.renameSync(wal.dir, odd)
  zeroRange(segPath(odd, 3), wal.positions[19].offset + 20, wal.positions[19].offset + 48)
  const e = explainJson(odd, `Corrupted record found at position ${wal.positions[19].offset}`)
  t.is(e.repair[0], `walctl recover '${odd.replace("'", "'\\''")}' --dry-run`)
})

test('every message form parses, with its numbers', (t) => {
  t.deepEqual(parseShardexMessage('Truncated record data at position 105, expected 40 bytes'), {kind: 'truncated-record-data', offset: 97, values: {dataOffset: 105, length: 40}})
  t.is(parseShardexMessage('Record checksum validation failed at position 137')?.offset, 137)
  t.is(parseShardexMessage('Truncated record header at position 4090')?.kind, 'truncated-record-header')
  t.deepEqual(parseShardexMessage('Creation timestamp 20 is after modification timestamp 10')?.values, {createdAt: 20, modifiedAt: 10})
  t.is(parseShardexMessage('Modification timestamp 99 is in the future')?.field, 'modifiedAt')
  t.is(parseShardexMessage('Magic bytes mismatch: expected [87, 76, 79, 71], found [0, 0, 0, 0]')?.field, 'magic')
  t.is(parseShardexMessage('Version 2 is too new (maximum supported: 1)')?.values.version, 2)
  t.is(parseShardexMessage('Invalid data offset: 12 is less than header size 80')?.values.dataOffset, 12)
  t.is(parseShardexMessage('Reserved bytes are not zero')?.kind, 'reserved-not-zero')
  t.deepEqual(parseShardexMessage('Segment size mismatch: found 4096 bytes, expected 8192 bytes. Cannot recover with different segment size configuration.')?.values, {found: 4096, expected: 8192})
  t.is(parseShardexMessage('x'.repeat(5_000_000) + ' Corrupted record found at position 1'), undefined, 'only the first 8 KiB are read: bounded on a huge paste')
})
