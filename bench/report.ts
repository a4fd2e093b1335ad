// Prints bench/results.json (or the files given) as Markdown tables, one
// column of values per run, for docs/PERFORMANCE.md.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fmt, Figure, ROOT} from './lib.js'

interface Results {
  date: string
  loadAverageAtStart: number[]
  seconds: number
  figures: Figure[]
}

const files = process.argv.slice(2)
const runs: Results[] = (files.length ? files : [path.join(ROOT, 'bench', 'results.json')]).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Results)
const key = (f: Figure): string => `${f.group}|${f.name}`
const order: string[] = []
// In the order of the newest run, which has every figure the older ones have.
for (const r of [...runs].reverse()) for (const f of r.figures) if (!order.includes(key(f))) order.push(key(f))
// The last run in full; the others as ratios and values, to show how much the figures move.
const last = runs.length - 1
const head = ['group', 'figure', `value (run ${last + 1})`, `baseline (run ${last + 1})`, 'ratio per run', 'value per run', `target (run ${last + 1})`]
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`]
for (const k of order) {
  const [group, name] = k.split('|')
  const per = runs.map((r) => r.figures.find((x) => key(x) === k))
  const f = per[last] ?? per.find(Boolean)!
  const target = f.target ? `${f.met ? 'met' : '**not met**'} (${f.target})` : ''
  lines.push(`| ${[group, name, fmt(f.value, f.unit), `${f.baselineName}: ${fmt(f.baseline, f.unit)}`,
    per.map((x) => (x ? x.ratio.toFixed(2) : '-')).join(' / '), per.map((x) => (x ? fmt(x.value, '') : '-')).join(' / '), target].join(' | ')} |`)
}
process.stdout.write(`${runs.map((r, i) => `- run ${i + 1}: ${r.date}, ${r.seconds.toFixed(0)} s, load average at start ${r.loadAverageAtStart.map((l) => l.toFixed(1)).join(' / ')}`).join('\n')}\n\n${lines.join('\n')}\n`)
