// Every command's --json output, from real runs on real WALs (clean,
// repairable, damaged), checked key for key against the types in docs/JSON.md.
import test, {ExecutionContext} from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ROOT, walctl} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'
import {checkShape, parseTypes, Shape} from './helpers/json-shape.js'

const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'JSON.md'), 'utf8')
const types = parseTypes(DOC)

function conforms(t: ExecutionContext, value: unknown, type: string): void {
  const shape = types.get(type)
  if (!shape) {
    t.fail(`docs/JSON.md defines no type ${type}`)
    return
  }
  t.deepEqual(checkShape(value, shape, types), [], `conforms to ${type}`)
}

/** Runs walctl with --json; the exit code must be `code`, stdout one JSON document, stderr empty unless allowed. */
function json(t: ExecutionContext, args: string[], code: number, options: {input?: string; stderr?: boolean} = {}): unknown {
  const r = walctl([...args, '--json'], {input: options.input})
  t.is(r.code, code, `walctl ${args.join(' ')} --json: ${r.stderr}${r.stdout.slice(0, 300)}`)
  if (!options.stderr) t.is(r.stderr, '', `nothing on stderr from walctl ${args.join(' ')} --json`)
  return JSON.parse(r.stdout)
}

/** A copy of the `small` fixture (10 records in one 4 KiB segment) with a byte edit. */
function small(edit?: (file: string) => void): string {
  const dir = copyFixture('small')
  if (edit) edit(path.join(dir, 'wal', 'wal_000001.log'))
  return dir
}

function poke(file: string, offset: number, bytes: number[]): void {
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset)
  fs.closeSync(fd)
}

// small's records end at 839: a length with no record after it is a torn tail.
const tornTail = (file: string): void => poke(file, 839, [0x40, 0, 0, 0, 1, 2, 3, 4, 5])
// A flipped byte in the first record's payload: a complete record is lost, later ones are hidden behind it.
const midDamage = (file: string): void => poke(file, 97, [0xff])

test('docs/JSON.md: every type it uses is defined, and every command has a section', (t) => {
  const undefinedRefs = new Set<string>()
  const walk = (s: Shape): void => {
    if (s.kind === 'ref' && !types.has(s.name)) undefinedRefs.add(s.name)
    if (s.kind === 'array') walk(s.item)
    if (s.kind === 'union') s.options.forEach(walk)
    if (s.kind === 'object') for (const f of s.fields.values()) walk(f.shape)
  }
  types.forEach(walk)
  t.deepEqual([...undefinedRefs], [])
  for (const command of fs.readdirSync(path.join(ROOT, 'src', 'commands')).map((f) => f.replace(/\.ts$/, ''))) {
    t.regex(DOC, new RegExp(`^## ${command}$`, 'm'), `a section for ${command}`)
  }
})

test('the checker finds an undocumented key, a missing key and a wrong type (it can fail)', (t) => {
  const shape = types.get('Rotate')!
  t.deepEqual(checkShape({dir: '/w', previous: 1, segment: 2, file: '/w/f', extra: 1}, shape, types), ['$.extra: not in JSON.md'])
  t.deepEqual(checkShape({dir: '/w', previous: 1, segment: 2}, shape, types), ['$.file: missing'])
  t.deepEqual(checkShape({dir: '/w', previous: 1.5, segment: 2, file: '/w/f'}, shape, types), ['$.previous: expected an integer, got 1.5'])
  t.is(checkShape({verdict: 'fine'}, types.get('Verify')!, types).filter((e) => e.startsWith('$.verdict')).length, 1)
})

test('init, append, rotate', (t) => {
  const wal = path.join(tempDir(), 'wal')
  conforms(t, json(t, ['init', wal, '--segment-size', '4KiB'], 0), 'Init')
  const appended = json(t, ['append', wal, 'one', 'two'], 0) as {positions: string[]}
  conforms(t, appended, 'Append')
  t.deepEqual(appended.positions, ['1:89', '1:100'])
  conforms(t, json(t, ['append', wal, '--stdin', '--no-sync'], 0, {input: 'a\nb\nc\n'}), 'Append')
  conforms(t, json(t, ['rotate', wal], 0), 'Rotate')
})

test('verify: clean, repairable, damaged, a Shardex index root and a single file', (t) => {
  const clean = json(t, ['verify', copyFixture('rotation')], 0) as {verdict: string}
  conforms(t, clean, 'Verify')
  t.is(clean.verdict, 'clean')
  const repairable = json(t, ['verify', small(tornTail)], 1) as {verdict: string; problems: Array<{end?: number}>}
  conforms(t, repairable, 'Verify')
  t.is(repairable.verdict, 'repairable')
  t.true(repairable.problems.some((p) => p.end !== undefined))
  const damaged = json(t, ['verify', small(midDamage)], 2) as {verdict: string}
  conforms(t, damaged, 'Verify')
  t.is(damaged.verdict, 'damaged')
  conforms(t, json(t, ['verify', path.join(copyFixture('forced-rotate'), 'wal', 'wal_000002.log')], 0), 'Verify')
  // Directory problems: a stray file and a missing middle segment.
  const gappy = copyFixture('rotation')
  fs.rmSync(path.join(gappy, 'wal', 'wal_000003.log'))
  fs.writeFileSync(path.join(gappy, 'wal', 'notes.txt'), 'hello')
  const dir = json(t, ['verify', gappy], 2) as {problems: Array<{kind: string; segment: number | null}>}
  conforms(t, dir, 'Verify')
  t.deepEqual(dir.problems.map((p) => p.kind).sort(), ['missing-segment', 'stray-file'])
})

test('recover: a repair, a dry run, a refusal and a salvage', (t) => {
  const dry = json(t, ['recover', small(tornTail), '--dry-run'], 0) as {dryRun: boolean; changed: boolean}
  conforms(t, dry, 'Recover')
  t.true(dry.dryRun)
  t.false(dry.changed)
  const done = json(t, ['recover', small(tornTail)], 0) as {changed: boolean; actions: unknown[]}
  conforms(t, done, 'Recover')
  t.true(done.changed)
  t.true(done.actions.length > 0)
  const refused = json(t, ['recover', small(midDamage)], 2, {stderr: true}) as {refused: string | null; modes: Array<{reason?: string}>}
  conforms(t, refused, 'Recover')
  t.truthy(refused.refused)
  conforms(t, json(t, ['recover', small(midDamage), '--mode', 'salvage'], 0), 'Recover')
})

test('gc: delete, dry run, archive, nothing to do', (t) => {
  conforms(t, json(t, ['gc', copyFixture('rotation'), '--keep', '2', '--dry-run'], 0), 'Gc')
  const deleted = json(t, ['gc', copyFixture('rotation'), '--upto', '4:89'], 0) as {segments: unknown[]}
  conforms(t, deleted, 'Gc')
  t.is(deleted.segments.length, 3)
  const archived = json(t, ['gc', copyFixture('rotation'), '--keep', '1', '--archive', path.join(tempDir(), 'archive')], 0) as {segments: Array<{archivedTo?: string}>}
  conforms(t, archived, 'Gc')
  t.true(archived.segments.every((s) => typeof s.archivedTo === 'string'))
  conforms(t, json(t, ['gc', copyFixture('small'), '--keep', '1'], 0), 'Gc')
})

test('dump --json: a clean WAL, damage, a short file, decoded Shardex transactions', (t) => {
  const clean = json(t, ['dump', copyFixture('rotation')], 0) as {summary: {records: number}}
  conforms(t, clean, 'Dump')
  t.true(clean.summary.records > 0)
  const damaged = json(t, ['dump', small(midDamage)], 0) as {segments: Array<{entries: Array<{kind?: string}>}>}
  conforms(t, damaged, 'Dump')
  t.true(damaged.segments[0].entries.some((e) => e.kind !== undefined), 'a damaged region among the entries')
  const shortFile = path.join(tempDir(), 'wal_000001.log')
  fs.writeFileSync(shortFile, 'WLOG')
  const short = json(t, ['dump', shortFile], 0) as {segments: Array<{header: unknown}>}
  conforms(t, short, 'Dump')
  t.is(short.segments[0].header, null)
  conforms(t, json(t, ['dump', copyFixture('transactions'), '--decode', 'shardex'], 0), 'Dump')
})

test('dump --format jsonl: every line a DumpRecord or a DumpDamage', (t) => {
  const r = walctl(['dump', small(midDamage), '--format', 'jsonl'])
  t.is(r.code, 0)
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as {kind?: string})
  t.true(lines.length > 5)
  t.true(lines.some((l) => l.kind !== undefined))
  for (const line of lines) conforms(t, line, 'DumpEntry')
})

test('dump --stats --json', (t) => {
  const stats = json(t, ['dump', copyFixture('rotation'), '--stats'], 0) as {segments: unknown[]}
  conforms(t, stats, 'DumpStats')
  t.is(stats.segments.length, 5)
  conforms(t, json(t, ['dump', small(midDamage), '--stats'], 0), 'DumpStats')
})

test('errors: every command answers a failure with the documented error document', (t) => {
  const missing = path.join(tempDir(), 'missing')
  const existing = copyFixture('small')
  const cases: Array<[string[], number]> = [
    [['init', existing], 73],
    [['append', missing, 'x'], 66],
    [['append', existing, ''], 65],
    [['rotate', missing], 66],
    [['verify', missing], 66],
    [['recover', missing], 66],
    [['gc', existing], 64],
    [['dump', missing], 66],
    [['verify', existing, '--no-such-flag'], 64],
  ]
  for (const [args, code] of cases) {
    const doc = json(t, args, code) as {error: {exitCode: number; file?: string}}
    conforms(t, doc, 'Error')
    t.is(doc.error.exitCode, code, args.join(' '))
  }
  const withFile = json(t, ['dump', missing], 66) as {error: {file?: string}}
  t.is(withFile.error.file, missing)
})

test('verify lists stray files in code-unit order, the same under any locale', (t) => {
  const dir = copyFixture('small')
  for (const name of ['b', 'B', 'a', 'A', '_x', 'é']) fs.writeFileSync(path.join(dir, 'wal', name), '')
  const expected = ['A', 'B', '_x', 'a', 'b', 'é']
  for (const lang of ['C.UTF-8', 'en_US.UTF-8', 'sv_SE.UTF-8']) {
    const r = walctl(['verify', dir, '--json'], {env: {LANG: lang, LC_ALL: lang}})
    const report = JSON.parse(r.stdout) as {problems: Array<{kind: string; file: string}>}
    t.deepEqual(report.problems.filter((p) => p.kind === 'stray-file').map((p) => path.basename(p.file)), expected, lang)
  }
})
