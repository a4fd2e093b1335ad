// Safe concurrent use, with real processes: writers serialised by the writer
// lock lose nothing and keep their own order; gc in a loop beside rotating
// appends never removes the segment being written nor leaves a gap; readers
// take no lock and see a consistent prefix of a WAL being written.
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32 as crcOracle} from 'crc'
import {GcResult} from '../src/core/maintain/gc.js'
import {BIN, CliResult, walctlAsync} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

interface DumpRecord {
  segment: number
  offset: number
  length: number
  crc32: string
  valid: boolean
  data: string
}

function newWal(): string {
  const dir = path.join(tempDir('walctl-conc-'), 'wal')
  return dir
}

async function init(dir: string): Promise<void> {
  const r = await walctlAsync(['init', dir, '--segment-size', '4KiB'])
  if (r.code !== 0) throw new Error(r.stderr)
}

async function dump(dir: string): Promise<DumpRecord[]> {
  const r = await walctlAsync(['dump', dir, '--format', 'jsonl'])
  if (r.code !== 0) throw new Error(`dump failed (${r.code}): ${r.stderr}`)
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DumpRecord).filter((r) => 'valid' in r)
}

function text(r: DumpRecord): string {
  return Buffer.from(r.data, 'hex').toString('utf8')
}

function segmentIds(dir: string): number[] {
  return fs.readdirSync(dir).filter((n) => /^wal_\d+\.log$/.test(n)).map((n) => Number(n.slice(4, -4))).sort((a, b) => a - b)
}

function lines(prefix: string, from: number, count: number): string {
  let s = ''
  for (let i = from; i < from + count; i++) s += `${prefix}-${String(i).padStart(5, '0')}\n`
  return s
}

test('four appenders of 5,000 records each at once, with --wait, leave exactly 20,000 valid records, each process\'s in its own order', async (t) => {
  const dir = newWal()
  await init(dir)
  const procs = ['p1', 'p2', 'p3', 'p4']
  // --wait 120, not 30: the last of the four waits for three whole appends, slow on a loaded 2-core machine.
  const results = await Promise.all(procs.map((p) => walctlAsync(['append', dir, '--stdin', '--wait', '120'], {input: lines(p, 0, 5000)})))
  for (const r of results) t.is(r.code, 0, r.stderr)
  const records = await dump(dir)
  t.is(records.length, 20_000)
  t.true(records.every((r) => r.valid))
  // The CRC the dump reports is the data's, by an independent implementation.
  t.true(records.every((r) => r.crc32 === crcOracle(Buffer.from(r.data, 'hex')).toString(16).padStart(8, '0')))
  for (const [i, p] of procs.entries()) {
    const mine = records.filter((r) => text(r).startsWith(`${p}-`))
    t.deepEqual(mine.map(text), lines(p, 0, 5000).trimEnd().split('\n'), `${p}: every record, in its order`)
    // And each sits where its process was told it went.
    t.deepEqual(mine.map((r) => `${r.segment}:${r.offset}`), results[i].stdout.trimEnd().split('\n'))
  }
  // The lock serialises whole appends: each process's records are one unbroken run.
  const runs = records.map((r) => text(r).slice(0, 2)).filter((p, i, all) => i === 0 || all[i - 1] !== p)
  t.is(runs.length, 4)
  const ids = segmentIds(dir)
  t.deepEqual(ids, Array.from({length: ids.length}, (_, i) => i + 1))
  const verify = await walctlAsync(['verify', dir, '--quiet'])
  t.is(verify.code, 0)
  t.false(fs.existsSync(path.join(dir, '.walctl.lock')))
})

test('gc --keep 1 in a loop while appends rotate never removes the segment being written and never leaves a gap', async (t) => {
  const dir = newWal()
  await init(dir)
  const appends: CliResult[] = []
  const inputs: string[] = []
  let appending = true
  // Two chains of appenders, 4 each, ~2 segments of records per process, so every process rotates.
  const chain = async (name: string): Promise<void> => {
    for (let k = 0; k < 4; k++) {
      const input = lines(`${name}${k}`, 0, 400)
      const r = await walctlAsync(['append', dir, '--stdin', '--wait', '60'], {input})
      appends.push(r)
      inputs.push(input)
    }
  }
  const gcs: GcResult[] = []
  const gcFailures: string[] = []
  const gcLoop = async (): Promise<void> => {
    while (appending || gcs.length < 3) {
      const r = await walctlAsync(['gc', dir, '--keep', '1', '--wait', '60', '--json'])
      if (r.code === 0) gcs.push(JSON.parse(r.stdout) as GcResult)
      else gcFailures.push(`${r.code}: ${r.stderr}${r.stdout}`)
    }
  }
  const loop = gcLoop()
  await Promise.all([chain('a'), chain('b')])
  appending = false
  await loop

  t.deepEqual(gcFailures, [])
  for (const r of appends) t.is(r.code, 0, r.stderr)
  t.true(gcs.length >= 3)
  t.true(gcs.some((g) => g.segments.length > 0), 'gc removed segments while the appends ran')
  for (const g of gcs) {
    const removed = g.segments.map((s) => s.id)
    // Oldest first and contiguous, and exactly the newest stays.
    t.deepEqual(removed, removed.map((_, i) => removed[0] + i))
    t.is(g.kept.count, 1)
    t.is(g.kept.first, g.kept.last)
    if (removed.length > 0) t.is(removed.at(-1)! + 1, g.kept.first)
  }
  // Removals across runs are contiguous too: each gc starts where the last one stopped.
  const allRemoved = gcs.flatMap((g) => g.segments.map((s) => s.id))
  t.deepEqual(allRemoved, allRemoved.map((_, i) => 1 + i))

  // Every record an appender was told is durable, in a segment that is still there, is there with its data.
  const records = await dump(dir)
  const byPosition = new Map(records.map((r) => [`${r.segment}:${r.offset}`, text(r)]))
  const ids = segmentIds(dir)
  t.deepEqual(ids, Array.from({length: ids.length}, (_, i) => ids[0] + i))
  t.is(ids[0], allRemoved.length + 1, 'nothing but gc removed a segment')
  let checked = 0
  for (const [i, r] of appends.entries()) {
    const positions = r.stdout.trimEnd().split('\n')
    const data = inputs[i].trimEnd().split('\n')
    t.is(positions.length, data.length)
    for (const [j, pos] of positions.entries()) {
      if (Number(pos.split(':')[0]) < ids[0]) continue
      t.is(byPosition.get(pos), data[j], pos)
      checked++
    }
  }
  t.is(checked, records.length, 'the surviving segments hold exactly the acknowledged records that were not collected')
  t.is((await walctlAsync(['verify', dir, '--quiet'])).code, 0)
})

test('verify and dump take no lock: while a writer appends and rotates they see a clean, consistent prefix', async (t) => {
  const dir = newWal()
  await init(dir)
  const child = spawn(process.execPath, [BIN, 'append', dir, '--stdin', '--batch-ms', '0'], {env: {...process.env, NO_COLOR: '1'}})
  let err = ''
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  child.stdout.resume()
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let written = 0
  let reading = true
  // Feed the writer steadily until the readers are done, so that they overlap it.
  const feed = (async () => {
    while (reading) {
      child.stdin.write(lines('w', written, 100))
      written += 100
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.stdin.end()
  })()
  const verdicts: Array<{code: number; out: string}> = []
  const dumps: DumpRecord[][] = []
  for (let i = 0; i < 4; i++) {
    const [v, d] = await Promise.all([walctlAsync(['verify', dir, '--json']), dump(dir)])
    verdicts.push({code: v.code, out: v.stdout})
    dumps.push(d)
  }
  reading = false
  await feed
  t.is(await exited, 0, err)
  const final = await dump(dir)
  t.is(final.length, written)
  t.deepEqual(final.map(text), lines('w', 0, written).trimEnd().split('\n'))
  for (const v of verdicts) t.is(v.code, 0, v.out)
  for (const d of dumps) {
    // A prefix of the final WAL: the same records at the same places, none reported invalid.
    t.deepEqual(d.map((r) => [r.segment, r.offset, r.data]), final.slice(0, d.length).map((r) => [r.segment, r.offset, r.data]))
  }
  t.true(dumps.some((d) => d.length > 0 && d.length < written), 'a reader ran while the writer was writing')
  t.true(segmentIds(dir).length > 2, 'the writer rotated meanwhile')
})
