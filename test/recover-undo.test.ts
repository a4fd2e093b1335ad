// walctl recover --undo through the real CLI: the originals back byte for byte
// with their modes and owners, an undo undone, and the refusals that change
// nothing (a WAL written to since, a copy not matching its SHA-256, a folder
// that is not this WAL's quarantine).
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {BIN, ROOT, walctl} from './helpers/cli.js'
import {buildWal, flipByte, recordOffset, segPath} from './helpers/corrupt.js'
import {snapshot, tempDir} from './helpers/fixtures.js'
import {checkShape, parseTypes} from './helpers/json-shape.js'

const types = parseTypes(fs.readFileSync(path.join(ROOT, 'docs', 'JSON.md'), 'utf8'))

interface UndoJson {
  undo: string
  dryRun: boolean
  changed: boolean
  quarantine: string | null
  steps: Array<{action: string; segment: number; file: string; from: string | null; quarantined: string | null; done: boolean}>
}

/** Each segment's bytes, mode and owner. */
function segments(dir: string): Map<string, {bytes: string; mode: number; uid: number; gid: number}> {
  const out = new Map<string, {bytes: string; mode: number; uid: number; gid: number}>()
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const st = fs.statSync(path.join(dir, name))
    out.set(name, {bytes: fs.readFileSync(path.join(dir, name)).toString('base64'), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid})
  }
  return out
}

/** A flipped byte in record 10 (segment 2 of 3): damaged, records 11-15 found past it. */
function damagedWal(): string {
  const w = buildWal()
  flipByte(segPath(w, 2), recordOffset(w, 10) + 12)
  return w.dir
}

function run(t: import('ava').ExecutionContext, args: string[], code = 0): {stdout: string; stderr: string} {
  const r = walctl(args)
  t.is(r.code, code, `walctl ${args.join(' ')}: ${r.stderr}`)
  return r
}

function recover(t: import('ava').ExecutionContext, dir: string, mode: string): string {
  return (JSON.parse(run(t, ['recover', dir, '--mode', mode, '--json']).stdout) as {quarantine: string}).quarantine
}

test('salvage of a segment owned by 65534 mode 0600, then --undo: every segment back byte for byte with its mode and owner; the undo undone', (t) => {
  const dir = damagedWal()
  fs.chownSync(segPath(dir, 2), 65534, 65534)
  fs.chmodSync(segPath(dir, 2), 0o600)
  const original = segments(dir)
  const q = recover(t, dir, 'salvage')
  const recovered = segments(dir)
  t.notDeepEqual(recovered, original)
  t.like(recovered.get('wal_000002.log'), {mode: 0o600, uid: 65534, gid: 65534})

  const r = run(t, ['recover', dir, '--undo', q])
  t.regex(r.stdout, /undo of quarantine\/[^:]+: made 1 change\(s\)/)
  t.regex(r.stdout, /wal_000002\.log: put the original back from quarantine\/.*wal_000002\.log \[quarantine\/.*wal_000002\.log\]/)
  t.deepEqual(segments(dir), original)
  t.is(run(t, ['verify', dir], 2).stdout.includes('crc-mismatch'), true)
  // The new folder holds the state replaced, and its report says it is an undo of which folder.
  const folders = fs.readdirSync(path.join(dir, 'quarantine')).sort()
  t.is(folders.length, 2)
  const u = path.join(dir, 'quarantine', folders[1])
  const report = JSON.parse(fs.readFileSync(path.join(u, 'report.json'), 'utf8')) as {mode: string; subcommand: string; undoes: string; status: string; actions: Array<{original: {sha256: string; uid: number; mode: string}}>}
  t.like(report, {mode: 'undo', subcommand: 'recover', undoes: path.relative(dir, q), status: 'done'})
  t.is(fs.readFileSync(path.join(u, 'wal_000002.log')).toString('base64'), recovered.get('wal_000002.log')!.bytes)
  t.like(report.actions[0].original, {uid: 65534, mode: '0600'})

  // Undoing the undo gives back what the recover left; by the folder's name alone.
  const again = JSON.parse(run(t, ['recover', dir, '--undo', folders[1], '--json']).stdout) as UndoJson
  t.deepEqual(checkShape(again, types.get('RecoverUndo')!, types), [])
  t.true(again.changed)
  t.deepEqual(segments(dir), recovered)
  t.is(run(t, ['verify', dir]).stdout.includes('clean'), true)
  // Run twice, an undo finds nothing left to do and changes nothing.
  const twice = JSON.parse(run(t, ['recover', dir, '--undo', folders[1], '--json']).stdout) as UndoJson
  t.false(twice.changed)
  t.true(twice.steps.every((s) => s.done))
})

test('point-in-time then --undo: the moved segment comes back from the quarantine, the cut one gets its original', (t) => {
  const dir = damagedWal()
  const original = segments(dir)
  const human = run(t, ['recover', dir, '--mode', 'point-in-time']).stdout
  t.false(fs.existsSync(segPath(dir, 3)))
  const q = path.join(dir, 'quarantine', fs.readdirSync(path.join(dir, 'quarantine'))[0])
  // The report ends with the command that undoes it, ready to paste: its dry run runs as written.
  const undo = /^undo: (walctl recover .* --undo .*)$/m.exec(human)![1]
  t.is(undo, `walctl recover '${dir}' --undo '${path.basename(q)}'`)
  const pasted = spawnSync('sh', ['-c', `${undo.replace(/^walctl/, `'${process.execPath}' '${BIN}'`)} --dry-run`], {encoding: 'utf8'})
  t.is(pasted.status, 0, pasted.stderr)
  t.regex(pasted.stdout, /would make 2 change\(s\)/)
  const j = JSON.parse(run(t, ['recover', dir, '--undo', q, '--json']).stdout) as UndoJson
  t.deepEqual(j.steps.map((s) => [s.action, s.segment, s.done]), [['rewrite', 2, false], ['restore', 3, false]])
  t.is(j.steps[1].from, path.join(path.relative(dir, q), 'wal_000003.log'))
  t.deepEqual(segments(dir), original)
  t.false(fs.existsSync(path.join(q, 'wal_000003.log')), 'moved back, not copied: the quarantine keeps no second name of a live segment')
  t.true(fs.existsSync(path.join(q, 'wal_000002.log')))
})

test('salvage filling a missing segment, then --undo: the empty segment it created leaves the WAL for the new quarantine', (t) => {
  const w = buildWal()
  fs.rmSync(segPath(w, 2))
  const original = segments(w.dir)
  recover(t, w.dir, 'salvage')
  t.true(fs.existsSync(segPath(w, 2)))
  const created = fs.readFileSync(segPath(w, 2))
  const q = fs.readdirSync(path.join(w.dir, 'quarantine'))[0]
  // Not empty any more: refused, nothing changed; emptied again, it goes.
  const fd = fs.openSync(segPath(w, 2), 'r+')
  fs.writeSync(fd, Buffer.from([7]), 0, 1, 300)
  const before = snapshot(w.dir)
  const refused = walctl(['recover', w.dir, '--undo', q])
  t.is(refused.code, 2)
  t.regex(refused.stderr, /wal_000002\.log, created empty by the recover, holds 0 record\(s\) and data from offset 300 on/)
  t.deepEqual(snapshot(w.dir), before)
  fs.writeSync(fd, Buffer.from([0]), 0, 1, 300)
  fs.closeSync(fd)
  const j = JSON.parse(run(t, ['recover', w.dir, '--undo', q, '--json']).stdout) as UndoJson
  t.deepEqual(j.steps.map((s) => [s.action, s.segment]), [['move', 2]])
  t.deepEqual(segments(w.dir), original)
  t.deepEqual(fs.readFileSync(path.join(j.quarantine!, 'wal_000002.log')), created)
})

test('--undo refuses, changing nothing, when a rewritten segment was appended to since, or a segment was added after', (t) => {
  const dir = damagedWal()
  const q = recover(t, dir, 'point-in-time')
  // After the cut, segment 2 is the newest and takes the append.
  const app = run(t, ['append', dir, 'written after the recover'])
  t.regex(app.stdout, /^2:/)
  const before = snapshot(dir)
  const r = walctl(['recover', dir, '--undo', q])
  t.is(r.code, 2)
  t.regex(r.stderr, /wal_000002\.log.*recover --undo refused, nothing changed: wal_000002\.log holds 3 record\(s\), 1 of them from offset 185 on, written since the recover \(which left 2 ending at 185\); undoing would take them out of the WAL/)
  t.is(r.stderr.trim().split('\n').length, 1)
  t.deepEqual(snapshot(dir), before)

  // A new segment after the range the recover left (salvage of the same damage, then a rotation).
  const other = damagedWal()
  const q2 = recover(t, other, 'salvage')
  run(t, ['rotate', other])
  run(t, ['append', other, 'in a new segment'])
  const before2 = snapshot(other)
  const r2 = walctl(['recover', other, '--undo', q2])
  t.is(r2.code, 2)
  t.regex(r2.stderr, /refused, nothing changed: wal_000004\.log \(1 record\(s\)\) were added after the recover, which left the WAL ending at wal_000003\.log/)
  t.deepEqual(snapshot(other), before2)
})

test('--undo --dry-run prints the plan and changes nothing; a copy not matching its SHA-256 is refused naming it', (t) => {
  const dir = damagedWal()
  const q = recover(t, dir, 'salvage')
  const before = snapshot(dir)
  const dry = run(t, ['recover', dir, '--undo', q, '--dry-run'])
  t.regex(dry.stdout, /\(dry run, nothing changed\): would make 1 change\(s\)/)
  t.regex(dry.stdout, /wal_000002\.log: put the original back from quarantine\//)
  const j = JSON.parse(run(t, ['recover', dir, '--undo', q, '--dry-run', '--json']).stdout) as UndoJson
  t.like(j, {dryRun: true, changed: false, quarantine: null})
  t.deepEqual(snapshot(dir), before)

  const copy = path.join(q, 'wal_000002.log')
  fs.chmodSync(copy, 0o600)
  flipByte(copy, 200)
  const tampered = snapshot(dir)
  const r = walctl(['recover', dir, '--undo', q])
  t.is(r.code, 2)
  t.regex(r.stderr, /wal_000002\.log.*does not match the SHA-256 in report\.json/)
  t.deepEqual(snapshot(dir), tampered)

  // A link in the copy's place is never read through: refused (73), nothing changed.
  const target = path.join(tempDir(), 'elsewhere')
  fs.writeFileSync(target, 'not a segment')
  fs.rmSync(copy)
  fs.symlinkSync(target, copy)
  const linked = walctl(['recover', dir, '--undo', q])
  t.is(linked.code, 73, linked.stderr)
  t.regex(linked.stderr, /symbolic link/)
  t.is(fs.readFileSync(target, 'utf8'), 'not a segment')
  t.is(fs.readFileSync(segPath(dir, 2)).toString('base64'), tampered.get('wal_000002.log')!.bytes)
})

test('--undo refuses a folder that is not a quarantine folder of this WAL: a link, another folder, one without report.json', (t) => {
  const dir = damagedWal()
  const q = recover(t, dir, 'salvage')
  const link = path.join(dir, 'quarantine', 'link')
  fs.symlinkSync(q, link)
  const elsewhere = path.join(tempDir(), 'quarantine', path.basename(q))
  fs.cpSync(q, elsewhere, {recursive: true})
  const empty = path.join(dir, 'quarantine', 'empty')
  fs.mkdirSync(empty)
  // Reports that are not what walctl writes: refused with one line, never a crash (exit 70).
  const crafted = ['null', '{"actions": [null]}', '{"actions": [{"action": "rewrite", "segment": 2, "file": "../../etc/passwd", "quarantined": null}]}', '{"actions": [{"action": "rewrite", "segment": 2, "file": "wal_000002.log", "quarantined": "quarantine/crafted-3/wal_000002.log", "original": {"sha256": 1}}]}']
  const craftedDirs = crafted.map((text, i) => {
    const d = path.join(dir, 'quarantine', `crafted-${i}`)
    fs.mkdirSync(d)
    fs.writeFileSync(path.join(d, 'report.json'), text)
    return d
  })
  const before = snapshot(dir)
  for (const [given, why] of [
    [link, /not a quarantine folder \(a symbolic link\)/],
    [elsewhere, /is not a quarantine folder of this WAL/],
    [empty, /no report\.json in it/],
    [craftedDirs[0], /report\.json lists no actions/],
    [craftedDirs[1], /report\.json holds an action without a segment id/],
    [craftedDirs[2], /report\.json names \.\.\/\.\.\/etc\/passwd/],
    [craftedDirs[3], /report\.json has no SHA-256 of wal_000002\.log's original/],
  ] as const) {
    const r = walctl(['recover', dir, '--undo', given])
    t.is(r.code, 2, `${given}: ${r.stderr}`)
    t.regex(r.stderr, why)
  }
  t.deepEqual(snapshot(dir), before)
  const usage = walctl(['recover', dir, '--undo', q, '--mode', 'salvage'])
  t.is(usage.code, 64)
})

/** `count` segments of 128 KiB, each 50 records and a torn tail: a recover and its undo take seconds (one fsync per segment). */
function manySegments(count: number): string {
  const dir = path.join(tempDir(), 'wal')
  const manager = WalManager.init(dir, {segmentSize: 128 * 1024})
  for (let i = 0; i < 50; i++) manager.append(Buffer.from(`record ${i} `.padEnd(200, '.')))
  manager.close()
  const bytes = fs.readFileSync(segPath(dir, 1))
  const end = 89 + 50 * 208
  bytes.writeUInt32LE(40, end)
  bytes[end + 8] = 1
  for (let id = 1; id <= count; id++) fs.writeFileSync(segPath(dir, id), bytes)
  return dir
}

test('SIGTERM during --undo: exit 143, the lock released, nothing lost; the same undo run again finishes it', async (t) => {
  const dir = manySegments(150)
  const original = segments(dir)
  const q = recover(t, dir, 'tolerate-tail')
  const recovered = segments(dir)
  const child = spawn(process.execPath, [BIN, 'recover', dir, '--undo', q], {env: {...process.env, NO_COLOR: '1'}})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const poll = setInterval(() => {
    if (!fs.existsSync(path.join(dir, '.walctl.lock'))) return
    clearInterval(poll)
    setTimeout(() => child.kill('SIGTERM'), 300)
  }, 10)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearInterval(poll)
  t.is(code, 143, stderr)
  t.regex(stderr, /^walctl: interrupted by SIGTERM; .*(the WAL is unchanged|run the same undo again to finish)/)
  t.false(fs.existsSync(path.join(dir, '.walctl.lock')))
  // Every segment is either as the recover left it or back to its original: never anything else.
  const mid = segments(dir)
  for (const [name, s] of mid) t.true(s.bytes === original.get(name)!.bytes || s.bytes === recovered.get(name)!.bytes, name)
  const interrupted = fs.readdirSync(path.join(dir, 'quarantine')).map((f) => path.join(dir, 'quarantine', f)).filter((f) => f !== q)
  t.is(interrupted.length, 1)
  t.regex(fs.readFileSync(path.join(interrupted[0], 'report.json'), 'utf8'), /"status": "interrupted"/)
  const again = walctl(['recover', dir, '--undo', q], {timeoutMs: 120_000})
  t.is(again.code, 0, again.stderr)
  t.deepEqual(segments(dir), original)
})
