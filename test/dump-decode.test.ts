// --decode shardex: Shardex WalTransaction payloads decoded to exactly what the
// `transactions` fixture's manifest says, and every kind of undecodable payload
// shown raw with its reason.
import test from 'ava'
import {crc32} from 'crc'
import {decodeShardexTransaction, ShardexOperation} from '../src/core/format/shardex-transaction.js'
import {walctlAsync} from './helpers/cli.js'
import {FIXTURE_FAMILIES, fixtureDir, loadManifest} from './helpers/fixtures.js'

interface ManifestOp {
  op: string
  variant_index: number
  document_id_hex: string
  start?: number
  length?: number
  vector?: number[]
  text?: string
}

interface ManifestTx {
  id_u128: string
  id_hex: string
  timestamp_micros: number
  operation_count: number
  checksum_crc32_of_operations: string
  header_padding_hex: string
  operations: ManifestOp[]
}

function expectedOps(ops: ManifestOp[]): ShardexOperation[] {
  return ops.map((o) => {
    const op: ShardexOperation = {op: o.op as ShardexOperation['op'], variantIndex: o.variant_index, documentId: o.document_id_hex}
    if (o.op === 'AddPosting') Object.assign(op, {start: o.start, length: o.length, vector: o.vector})
    if (o.op === 'StoreDocumentText') op.text = o.text
    return op
  })
}

for (const family of FIXTURE_FAMILIES) {
  test(`the transactions fixture decodes to exactly its manifest: ${family}`, (t) => {
    const manifest = loadManifest('transactions', family)
    t.is(manifest.records.length, 5)
    for (const rec of manifest.records) {
      const m = rec.transaction as unknown as ManifestTx
      const d = decodeShardexTransaction(Buffer.from(rec.hex, 'hex'))
      if (!d.ok) return t.fail(`record ${rec.index}: ${d.reason}`)
      const tx = d.transaction
      t.is(tx.id, m.id_u128)
      t.is(tx.idHex, m.id_hex)
      t.is(tx.timestampMicros, m.timestamp_micros)
      t.is(tx.operationCount, m.operation_count)
      t.is(tx.checksum, m.checksum_crc32_of_operations)
      t.is(tx.paddingHex, m.header_padding_hex)
      t.deepEqual(tx.operations, expectedOps(m.operations))
    }
  })
}

test('CLI --decode shardex: jsonl carries each transaction, table and hex describe it', async (t) => {
  const manifest = loadManifest('transactions')
  const [j, table, hex] = await Promise.all([
    walctlAsync(['dump', fixtureDir('transactions'), '--format', 'jsonl', '--decode', 'shardex']),
    walctlAsync(['dump', fixtureDir('transactions'), '--format', 'table', '--decode', 'shardex'], {env: {COLUMNS: '200'}}),
    walctlAsync(['dump', fixtureDir('transactions'), '--format', 'hex', '--decode', 'shardex']),
  ])
  t.is(j.code, 0, j.stderr)
  const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as {data: string; transaction: {id: string; operations: ShardexOperation[]}})
  t.deepEqual(lines.map((l) => l.transaction.id), manifest.records.map((r) => (r.transaction as unknown as ManifestTx).id_u128))
  t.deepEqual(lines.map((l) => l.transaction.operations), manifest.records.map((r) => expectedOps((r.transaction as unknown as ManifestTx).operations)))
  t.deepEqual(lines.map((l) => l.data), manifest.records.map((r) => r.hex), 'the raw payload stays beside the decoding')
  t.regex(table.stdout, /tx 5 @1700000003000000: RemoveDocument\(doc 1\), StoreDocumentText\(doc 1, "café ☃"\)/)
  t.regex(table.stdout, /tx 1 @1700000000000000: AddPosting\(doc 1, 0\+10, \[1, 2, 3\]\)/)
  t.regex(hex.stdout, /^ {2}tx 4 @1700000002000000: DeleteDocumentText\(doc 1\)$/m)
})

test('CLI --decode shardex on payloads that are not transactions: shown raw with the reason', async (t) => {
  const [j, table] = await Promise.all([
    walctlAsync(['dump', fixtureDir('small'), '--format', 'jsonl', '--decode', 'shardex', '--limit', '3']),
    walctlAsync(['dump', fixtureDir('small'), '--format', 'table', '--decode', 'shardex', '--limit', '3'], {env: {COLUMNS: '200'}}),
  ])
  t.is(j.code, 0, j.stderr)
  const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as {data: string; transaction?: unknown; decodeError?: {reason: string}})
  t.is(lines.length, 3)
  for (const l of lines) {
    t.is(l.transaction, undefined)
    t.regex(l.decodeError!.reason, /shorter than the 48-byte transaction header/)
  }
  t.is(lines[0].data, '41')
  t.regex(table.stdout, /not a transaction: payload is 1 bytes, shorter than the 48-byte transaction header; "A"/)
})

// An independent encoder for payloads the decoder must refuse.
function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b
}
function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}
const DOC = Buffer.alloc(16, 7)

function transaction(ops: Buffer, opts: {count?: number; size?: number; checksum?: number} = {}): Buffer {
  const header = Buffer.concat([Buffer.alloc(16, 1), u64(1_700_000_000_000_000n), u32(opts.count ?? 1), u32(opts.size ?? ops.length), u32(opts.checksum ?? crc32(ops)), Buffer.alloc(4), Buffer.from('padding!')])
  return Buffer.concat([header, ops])
}
const vec = (n: number | bigint, floats: number[]) => Buffer.concat([u64(n), ...floats.map((f) => {
  const b = Buffer.alloc(4)
  b.writeFloatLE(f)
  return b
})])
const addPosting = (vector: Buffer) => Buffer.concat([u32(0), DOC, u32(1), u32(2), vector])
const text = (bytes: Buffer) => Buffer.concat([u32(2), DOC, u64(bytes.length), bytes])

const BAD: Array<[string, Buffer, RegExp]> = [
  ['shorter than the header', Buffer.alloc(47), /payload is 47 bytes, shorter than the 48-byte transaction header/],
  ['operations size disagrees', transaction(Buffer.concat([u64(1), u32(1), DOC]), {size: 99}), /operations_data_size is 99, but 28 bytes follow the header/],
  ['operations checksum wrong', transaction(Buffer.concat([u64(1), u32(1), DOC]), {checksum: 0x1234}), /operations checksum: stored 00001234, computed [0-9a-f]{8}/],
  ['unknown variant tag', transaction(Buffer.concat([u64(1), u32(9), DOC])), /operation 0 has unknown variant tag 9/],
  ['vector longer than the payload', transaction(Buffer.concat([u64(1), addPosting(vec(1n << 40n, [1]))])), /operation 0 vector length 1099511627776 needs/],
  ['text not UTF-8', transaction(Buffer.concat([u64(1), text(Buffer.from([0xff, 0xfe]))])), /operation 0 text is not valid UTF-8/],
  ['bytes left over', transaction(Buffer.concat([u64(1), u32(1), DOC, Buffer.from([1, 2])])), /2 bytes left over after 1 operation/],
  ['operation count disagrees', transaction(Buffer.concat([u64(2), u32(1), DOC, u32(3), DOC]), {count: 1}), /operation_count is 1, but 2 operation\(s\) are encoded/],
  ['operations cut short', transaction(Buffer.concat([u64(2), u32(1), DOC])), /operations length 2 needs 40 bytes, 20 left/],
]

for (const [name, payload, reason] of BAD) {
  test(`undecodable payload, with its reason: ${name}`, (t) => {
    const d = decodeShardexTransaction(payload)
    t.false(d.ok)
    if (!d.ok) {
      t.regex(d.reason, reason)
      t.true(d.offset >= 0 && d.offset <= payload.length)
    }
  })
}

test('floats that JSON cannot hold are strings; a decodable payload built here round-trips', (t) => {
  const d = decodeShardexTransaction(transaction(Buffer.concat([u64(1), addPosting(vec(3, [Number.NaN, Number.POSITIVE_INFINITY, -0.5]))])))
  if (!d.ok) return t.fail(d.reason)
  t.deepEqual(d.transaction.operations[0].vector, ['NaN', 'Infinity', -0.5])
  t.is(d.transaction.paddingHex, Buffer.from('padding!').toString('hex'))
  t.is(d.transaction.documentId, undefined)
  t.is(d.transaction.operations[0].documentId, '07'.repeat(16))
})
