// verify and recover through the real CLI: exit codes, JSON shapes, what a
// dry run and a refusal leave (nothing), what the quarantine holds, the
// writer lock, and the Shardex fixtures, which must stay clean and untouched.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from 'crc'
import {acquireWriterLock} from '../src/core/maintain/lock.js'
import {recoverWal, RECOVER_MODES} from '../src/core/repair/recover.js'
import {planRecovery, takeInventory} from '../src/core/repair/recover-plan.js'
import {applyAction} from '../src/core/repair/recover-rewrite.js'
import {scanWal} from '../src/core/read/scan.js'
import {walctl, walctlAsync} from './helpers/cli.js'
import {buildWal, flipByte, payloadFor, recordOffset, segPath, shardexOpen, u32le, writeBytes} from './helpers/corrupt.js'
import {copyFixture, FIXTURE_FAMILIES, FIXTURE_SETS, snapshot} from './helpers/fixtures.js'

interface VerifyJson {
  verdict: string
  segments: Array<{id: number; records: number; verdict: string}>
  problems: Array<{segment: number | null; offset: number | null; kind: string; message: string; severity: string}>
  records: number
}

interface RecoverJson {
  verdictBefore: string
  verdictAfter: string
  refused: string | null
  changed: boolean
  quarantine: string | null
  records: {before: number; kept: number; dropped: number}
  actions: Array<{action: string; segment: number; file: string; quarantined: string | null}>
  modes: Array<{mode: string; possible: boolean; keptRecords: number; droppedRecords: number}>
}

/** A torn tail in segment 3: repairable. */
function repairableWal() {
  const w = buildWal()
  writeBytes(segPath(w, 3), 281, [...u32le(40), 1, 2, 3, 4])
  return w
}

/** A flipped byte in record 10 (segment 2): damaged, records 11-19 behind it. */
function damagedWal() {
  const w = buildWal()
  flipByte(segPath(w, 2), recordOffset(w, 10) + 12)
  return w
}

test('verify: exit 0/1/2 by verdict, the JSON shape, --quiet prints nothing', async (t) => {
  const clean = buildWal()
  const repairable = repairableWal()
  const damaged = damagedWal()
  const [a, b, c, q] = await Promise.all([
    walctlAsync(['verify', clean.dir, '--json']),
    walctlAsync(['verify', repairable.dir, '--json']),
    walctlAsync(['verify', damaged.dir, '--verbose']),
    walctlAsync(['verify', damaged.dir, '--quiet']),
  ])
  t.is(a.code, 0)
  const ja = JSON.parse(a.stdout) as VerifyJson
  t.is(ja.verdict, 'clean')
  t.deepEqual(ja.segments.map((s) => s.records), [8, 8, 4])
  t.deepEqual(ja.problems, [])
  t.is(b.code, 1)
  const jb = JSON.parse(b.stdout) as VerifyJson
  t.is(jb.verdict, 'repairable')
  t.like(jb.problems[0], {segment: 3, offset: 281, kind: 'crc-mismatch', severity: 'repairable'})
  t.is(c.code, 2)
  t.regex(c.stdout, /wal_000002\.log .*7 record\(s\), 5 found past damage +damaged/)
  t.regex(c.stdout, /damaged: .*wal_000002\.log: offset 185\.\.233: crc-mismatch: record of 40 bytes/)
  t.regex(c.stdout, /^damaged: 3 segment\(s\), 19 record\(s\)/m)
  t.is(q.code, 2)
  t.is(q.stdout + q.stderr, '')
})

test('verify and recover --dry-run change no byte and no mtime', async (t) => {
  const w = damagedWal()
  const before = snapshot(w.dir)
  const results = await Promise.all([
    walctlAsync(['verify', w.dir]),
    walctlAsync(['verify', w.dir, '--json']),
    ...RECOVER_MODES.map((m) => walctlAsync(['recover', w.dir, '--mode', m, '--dry-run'])),
    walctlAsync(['recover', w.dir, '--mode', 'salvage', '--dry-run', '--json']),
  ])
  t.deepEqual(results.map((r) => r.code), [2, 2, 2, 0, 0, 0])
  t.regex(results[3].stdout, /point-in-time \(dry run, nothing changed\): would keep 10 record\(s\), drop 9/)
  t.regex(results[3].stdout, /wal_000003\.log: move to quarantine, dropping 4/)
  const dry = JSON.parse(results[5].stdout) as RecoverJson
  t.false(dry.changed)
  t.is(dry.quarantine, null)
  t.deepEqual(dry.records, {before: 19, kept: 19, dropped: 0})
  t.deepEqual(snapshot(w.dir), before)
  t.false(fs.existsSync(path.join(w.dir, 'quarantine')))
})

test('tolerate-tail on a damaged WAL changes nothing, exits 2 and says what each other mode keeps and drops', (t) => {
  const w = damagedWal()
  const before = snapshot(w.dir)
  const r = walctl(['recover', w.dir])
  t.is(r.code, 2)
  t.regex(r.stderr, /recover --mode tolerate-tail refused: the WAL is damaged/)
  t.regex(r.stdout, /point-in-time +keeps 10, drops 9, changes 2 segment\(s\)/)
  t.regex(r.stdout, /salvage +keeps 19, drops 0, changes 1 segment\(s\)/)
  t.deepEqual(snapshot(w.dir), before)
  const j = JSON.parse(walctl(['recover', w.dir, '--json']).stdout) as RecoverJson
  t.truthy(j.refused)
  t.deepEqual(j.modes.map((m) => [m.mode, m.possible, m.keptRecords, m.droppedRecords]), [
    ['tolerate-tail', false, 19, 0],
    ['point-in-time', true, 10, 9],
    ['salvage', true, 19, 0],
  ])
})

test('point-in-time moves later segments into the quarantine (nothing deleted); walctl append works after', (t) => {
  const w = damagedWal()
  const before = snapshot(w.dir)
  const r = walctl(['recover', w.dir, '--mode', 'point-in-time', '--json'])
  t.is(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout) as RecoverJson
  t.is(j.verdictAfter, 'clean')
  t.deepEqual(j.records, {before: 19, kept: 10, dropped: 9})
  t.deepEqual(j.actions.map((a) => [a.action, a.segment]), [['move', 3], ['rewrite', 2]])
  const q = j.quarantine!
  t.is(path.dirname(q), path.join(w.dir, 'quarantine'))
  t.regex(path.basename(q), /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/)
  t.deepEqual(fs.readdirSync(q).sort(), ['report.json', 'wal_000002.log', 'wal_000003.log'])
  for (const name of ['wal_000002.log', 'wal_000003.log']) t.is(fs.readFileSync(path.join(q, name)).toString('base64'), before.get(name)!.bytes)
  t.deepEqual(fs.readdirSync(w.dir).filter((n) => n.endsWith('.log')).sort(), ['wal_000001.log', 'wal_000002.log'])
  const report = JSON.parse(fs.readFileSync(path.join(q, 'report.json'), 'utf8')) as {status: string; verdictBefore: string; problems: unknown[]}
  t.is(report.status, 'done')
  t.is(report.verdictBefore, 'damaged')
  t.is(report.problems.length, 1)
  t.is(walctl(['verify', w.dir]).code, 0)
  const app = walctl(['append', w.dir, 'after recovery'])
  t.is(app.code, 0, app.stderr)
  t.is(app.stdout.trim(), `2:${89 + 2 * 48}`)
  const open = shardexOpen(w.dir)
  t.deepEqual(open.errors, [])
  t.deepEqual(open.records.map(String), [...w.payloads.slice(0, 10).map(String), 'after recovery'])
  // A second recover has nothing to do and makes no new quarantine.
  const again = walctl(['recover', w.dir])
  t.is(again.code, 0)
  t.regex(again.stdout, /nothing to recover/)
  t.is(fs.readdirSync(path.join(w.dir, 'quarantine')).length, 1)
})

test('salvage keeps every valid record in order; a Shardex index root is recovered in its wal/', (t) => {
  const w = damagedWal()
  const root = path.dirname(w.dir)
  const r = walctl(['recover', root, '--mode', 'salvage'])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /salvage: did keep 19 record\(s\), drop 0/)
  t.regex(r.stdout, /after: clean/)
  t.true(fs.existsSync(path.join(w.dir, 'quarantine')))
  t.false(fs.existsSync(path.join(root, 'quarantine')))
  const open = shardexOpen(w.dir)
  t.deepEqual(open.errors, [])
  t.deepEqual(open.records.map(String), w.payloads.filter((_, i) => i !== 10).map(String))
  t.is(walctl(['append', root, 'next']).code, 0)
  t.is(walctl(['verify', root]).code, 0)
})

test('recover takes the writer lock: refused with 75 while another writer holds it; a dry run still works', async (t) => {
  const w = repairableWal()
  const lock = await acquireWriterLock(w.dir, {command: 'test holder'})
  try {
    const before = snapshot(w.dir)
    const r = walctl(['recover', w.dir])
    t.is(r.code, 75)
    t.regex(r.stderr, /test holder/)
    t.deepEqual(snapshot(w.dir), before)
    t.is(walctl(['recover', w.dir, '--dry-run']).code, 0)
  } finally {
    lock.release()
  }
  t.is(walctl(['recover', w.dir]).code, 0)
  t.is(walctl(['verify', w.dir]).code, 0)
})

test('recover: usage and missing input errors', (t) => {
  const w = buildWal()
  const file = walctl(['recover', segPath(w, 1)])
  t.not(file.code, 0)
  t.regex(file.stderr, /wal_000001\.log: not a directory/)
  t.is(walctl(['recover', path.join(w.dir, 'nope')]).code, 66)
  t.is(walctl(['recover', w.dir, '--mode', 'yolo']).code, 64)
})

test('a torn tail of the newest segment that a writer completes while the scan waits is not damage', (t) => {
  const w = buildWal()
  const file = segPath(w, 3)
  const next = payloadFor(20)
  // As WalSegment.append does it: data and crc first, the length last.
  writeBytes(file, 281 + 8, next)
  writeBytes(file, 281 + 4, u32le(crc32(next)))
  const attempts: number[] = []
  const scan = scanWal(w.dir, {
    settleMs: 1,
    onSettle: (segment, attempt) => {
      attempts.push(attempt)
      if (attempt === 2) writeBytes(file, 281, u32le(next.length))
    },
  })
  t.deepEqual(attempts, [1, 2])
  t.is(scan.verdict, 'clean')
  t.is(scan.records, 21)
  t.is(scan.segments[2].rereads, 2)
  // The same bytes in an older segment are not waited for; an unfinished tail that stays is reported.
  const stuck = buildWal()
  writeBytes(segPath(stuck, 3), 281 + 8, next)
  const s2 = scanWal(stuck.dir, {settleMs: 1})
  t.is(s2.verdict, 'repairable')
  t.is(s2.segments[2].rereads, 3)
})


for (const family of FIXTURE_FAMILIES) {
  test(`every ${family} fixture is clean, and recover in every mode leaves it untouched`, (t) => {
    for (const set of FIXTURE_SETS) {
      const root = copyFixture(set, family)
      const before = snapshot(root)
      for (const mode of RECOVER_MODES) {
        const r = recoverWal(root, {mode})
        t.is(r.verdictBefore, 'clean', `${set}: ${JSON.stringify(r.problems)}`)
        t.is(r.exitCode, 0)
        t.false(r.changed, `${set} ${mode}`)
      }
      t.deepEqual(snapshot(root), before, set)
    }
  })
}

test('a recover interrupted after any of its steps, then run again, ends with the same records and a clean WAL', (t) => {
  const edits: Array<[string, (w: ReturnType<typeof buildWal>) => void]> = [
    ['two damaged segments', (w) => {
      flipByte(segPath(w, 1), recordOffset(w, 2) + 9)
      writeBytes(segPath(w, 2), recordOffset(w, 12), u32le(0))
    }],
    ['a missing middle segment and a torn tail before it', (w) => {
      fs.unlinkSync(segPath(w, 2))
      writeBytes(segPath(w, 1), recordOffset(w, 7) + 20, Buffer.alloc(28))
    }],
  ]
  for (const [name, edit] of edits) {
    for (const mode of ['point-in-time', 'salvage'] as const) {
      const reference = buildWal()
      edit(reference)
      const plan = planRecovery(takeInventory(reference.dir))
      const steps = plan.modes[mode].actions
      t.true(steps.length >= 2, `${name} ${mode}`)
      const expected = recoverWal(reference.dir, {mode})
      const want = shardexOpen(reference.dir).records.map(String)
      for (let k = 1; k < steps.length; k++) {
        const w = buildWal()
        edit(w)
        // The first k steps of the same plan, as if the process died after them.
        const partial = planRecovery(takeInventory(w.dir)).modes[mode].actions
        const q = path.join(w.dir, 'quarantine', 'interrupted')
        fs.mkdirSync(q, {recursive: true})
        for (const a of partial.slice(0, k)) applyAction(a, plan.segmentSize, q)
        const r = recoverWal(w.dir, {mode})
        t.is(r.exitCode, 0, `${name} ${mode} after ${k} step(s)`)
        t.is(r.verdictAfter, 'clean')
        const open = shardexOpen(w.dir)
        t.deepEqual(open.errors, [])
        t.deepEqual(open.records.map(String), want, `${name} ${mode} after ${k} step(s)`)
      }
      t.is(expected.exitCode, 0)
    }
  }
})
