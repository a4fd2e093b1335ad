// --stats as tables for a person (JSON is the DumpStats object itself).
import Table from 'cli-table3'
import {ChalkInstance} from 'chalk'
import {DumpStats, OperationStats, SizeBucket} from '../../core/dump/stats.js'
import {formatBytes} from '../../core/format/units.js'

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`
}

function bucketLabel(b: SizeBucket): string {
  return b.min === b.max ? `${b.min}` : `${b.min}..${b.max}`
}

export function renderStats(stats: DumpStats, chalk: ChalkInstance): string {
  const t = new Table({
    head: ['segment', 'records', 'resynced', 'payload', 'fill', 'damaged', 'first', 'last', 'verdict'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'left', 'left'],
    style: {head: [], border: [], compact: true},
  })
  for (const s of stats.segments) {
    const damaged = s.damagedRegions ? chalk.red(`${s.damagedBytes} B in ${s.damagedRegions}`) : '0'
    t.push([String(s.segment), s.records, s.resyncedRecords, formatBytes(s.payloadBytes), percent(s.fill), damaged, s.first ?? '-', s.last ?? '-', s.verdict ?? ''])
  }
  const tt = stats.total
  t.push([chalk.bold(`total (${tt.segments})`), tt.records, tt.resyncedRecords, formatBytes(tt.payloadBytes), percent(tt.fill), tt.damagedRegions ? chalk.red(`${tt.damagedBytes} B in ${tt.damagedRegions}`) : '0', tt.first ?? '-', tt.last ?? '-', ''])
  const h = new Table({head: ['payload bytes', 'records', ''], colAligns: ['right', 'right', 'left'], style: {head: [], border: [], compact: true}})
  const most = Math.max(1, ...tt.histogram.map((b) => b.records))
  for (const b of tt.histogram) h.push([bucketLabel(b), b.records, '#'.repeat(Math.max(1, Math.round((b.records / most) * 40)))])
  const ops = stats.operations ? `operations (--decode shardex)\n${renderOperations(stats.operations)}\n` : ''
  return `${t.toString()}\n${tt.histogram.length > 0 ? `record sizes (power-of-two buckets)\n${h.toString()}\n` : ''}${ops}`
}

/** Counts and bytes by operation, each with its share, as pg_waldump --stats=record per record type. */
function renderOperations(o: OperationStats): string {
  const count = o.operations.reduce((n, r) => n + r.count, 0)
  const share = (n: number, of: number): string => (of > 0 ? percent(n / of) : '-')
  const t = new Table({
    head: ['operation', 'count', '(%)', 'transactions', 'bytes', '(%)'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
    style: {head: [], border: [], compact: true},
  })
  for (const r of o.operations) t.push([r.op, r.count, share(r.count, count), r.transactions, r.bytes, share(r.bytes, o.totalBytes)])
  t.push(['transaction headers', '', '', o.transactions, o.framingBytes, share(o.framingBytes, o.totalBytes)])
  t.push(['record headers', '', '', '', o.recordHeaderBytes, share(o.recordHeaderBytes, o.totalBytes)])
  if (o.undecoded.records > 0) t.push(['not a transaction', `${o.undecoded.records} record(s)`, '', '', o.undecoded.bytes, share(o.undecoded.bytes, o.totalBytes)])
  t.push(['total', count, '', o.transactions, o.totalBytes, ''])
  return t.toString()
}
