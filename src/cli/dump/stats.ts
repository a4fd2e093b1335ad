// --stats as tables for a person (JSON is the DumpStats object itself).
import Table from 'cli-table3'
import {ChalkInstance} from 'chalk'
import {DumpStats, SizeBucket} from '../../core/dump/stats.js'
import {formatBytes} from '../../core/units.js'

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
  return `${t.toString()}\n${tt.histogram.length > 0 ? `record sizes (power-of-two buckets)\n${h.toString()}\n` : ''}`
}
