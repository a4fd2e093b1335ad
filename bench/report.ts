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
for (const r of runs) for (const f of r.figures) if (!order.includes(key(f))) order.push(key(f))
const head = ['group', 'figure', ...runs.flatMap((_, i) => [`run ${i + 1}`, `baseline ${i + 1}`, `ratio ${i + 1}`]), 'target']
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`]
for (const k of order) {
  const [group, name] = k.split('|')
  const cells: string[] = [group, name]
  let target = ''
  for (const r of runs) {
    const f = r.figures.find((x) => key(x) === k)
    if (!f) {
      cells.push('', '', '')
      continue
    }
    cells.push(fmt(f.value, f.unit), `${f.baselineName}: ${fmt(f.baseline, f.unit)}`, f.ratio.toFixed(2))
    if (f.target) target = `${f.target}: ${f.met ? 'met' : 'not met'}`
  }
  cells.push(target)
  lines.push(`| ${cells.join(' | ')} |`)
}
process.stdout.write(`${runs.map((r, i) => `run ${i + 1}: ${r.date}, ${r.seconds.toFixed(0)} s, load average at start ${r.loadAverageAtStart.map((l) => l.toFixed(1)).join(' / ')}`).join('\n')}\n\n${lines.join('\n')}\n`)
