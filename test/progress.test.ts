// The progress bar: drawn on stderr only at a terminal, for long work, never
// under --json or in a pipe; erased when the work ends.
import test from 'ava'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {isLongWork, LONG_WORK, measureWal, progressWanted, renderBar} from '../src/cli/progress.js'
import {WalManager} from '../src/core/write/manager.js'
import {ROOT} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'
import {runTty, walctlTty} from './helpers/tty.js'

// eslint-disable-next-line no-control-regex
const ERASE = '\r\x1b[K'

test('renderBar: label, bar, percentage and counts, never wider than the terminal', (t) => {
  const line = renderBar('verify', {segments: 32, bytes: 32 << 20}, {segments: 64, bytes: 64 << 20}, 100)
  t.regex(line, /^verify \[=+>? *\] {2}50% {2}32\/64 segments {2}32\.0 MiB\/64\.0 MiB$/)
  for (let columns = 20; columns <= 200; columns += 7) {
    t.true(renderBar('recover', {segments: 3, bytes: 1}, {segments: 1000, bytes: 1 << 30}, columns).length < columns, `fits ${columns} columns`)
  }
  t.regex(renderBar('gc', {segments: 10, bytes: 0}, {segments: 10, bytes: 0}, 80), /\[=+\] 100% /)
  t.regex(renderBar('gc', {segments: 0, bytes: 0}, {segments: 0, bytes: 0}, 80), / {3}0% /)
})

test('progressWanted: a terminal, long work, not JSON, not a dumb terminal', (t) => {
  const long = {segments: LONG_WORK.segments, bytes: 0}
  const short = {segments: 3, bytes: 3 * 4096}
  t.true(progressWanted({isTTY: true, json: false, total: long, env: {}}))
  t.true(progressWanted({isTTY: true, json: false, total: {segments: 1, bytes: LONG_WORK.bytes}, env: {}}))
  t.false(progressWanted({isTTY: true, json: false, total: short, env: {}}), 'short work')
  t.false(progressWanted({isTTY: false, json: false, total: long, env: {}}), 'a pipe')
  t.false(progressWanted({isTTY: true, json: true, total: long, env: {}}), 'JSON')
  t.false(progressWanted({isTTY: true, json: false, total: long, env: {TERM: 'dumb'}}), 'a dumb terminal')
  t.false(isLongWork(short))
})

test('measureWal: a WAL directory, an index root, one segment, and nothing', (t) => {
  const root = copyFixture('rotation')
  const files = fs.readdirSync(path.join(root, 'wal'))
  const bytes = files.reduce((n, f) => n + fs.statSync(path.join(root, 'wal', f)).size, 0)
  t.deepEqual(measureWal(root), {segments: 5, bytes})
  t.deepEqual(measureWal(path.join(root, 'wal')), {segments: 5, bytes})
  const one = path.join(root, 'wal', 'wal_000002.log')
  t.deepEqual(measureWal(one), {segments: 1, bytes: fs.statSync(one).size})
  t.deepEqual(measureWal(path.join(tempDir(), 'none')), {segments: 0, bytes: 0})
})

/** A script driving a bar over 64 segments, as a command would; prints whether it was shown. */
function driver(): string {
  const file = path.join(tempDir('walctl-progress-'), 'drive.mjs')
  const progress = path.join(ROOT, 'dist', 'cli', 'progress.js')
  fs.writeFileSync(file, `import {Progress} from ${JSON.stringify(progress)}
const p = Progress.start({label: 'verify', total: {segments: 64, bytes: 64 * 4096}, json: process.argv.includes('--json')})
for (let i = 0; i < 64; i++) p.advance(4096, 1)
p.finish()
process.stdout.write('shown=' + p.shown + '\\n')
`)
  return file
}

test('at a terminal the bar is drawn on stderr and erased at the end', (t) => {
  const r = runTty([process.execPath, driver()], {columns: 90})
  t.is(r.code, 0)
  t.true(r.output.startsWith(`${ERASE}verify [`), JSON.stringify(r.output.slice(0, 80)))
  t.regex(r.output, /verify \[[ =>]+\] +\d+% {2}\d+\/64 segments/)
  t.true(r.output.endsWith(`${ERASE}shown=true\n`), 'the last frame is erased before anything else is printed')
  for (const frame of r.output.split(ERASE).filter((f) => f.startsWith('verify'))) t.true(frame.length < 90, 'each frame fits the terminal')
})

test('at a terminal under --json, and in a pipe, nothing is drawn', (t) => {
  const tty = runTty([process.execPath, driver(), '--json'])
  t.is(tty.output, 'shown=false\n')
  const piped = spawnSync(process.execPath, [driver()], {encoding: 'utf8'})
  t.is(piped.stderr, '')
  t.is(piped.stdout, 'shown=false\n')
})

/** A WAL long enough for a bar: LONG_WORK.segments small segments, one record each. */
function longWal(): string {
  const dir = path.join(tempDir('walctl-long-'), 'wal')
  const manager = WalManager.init(dir, {segmentSize: 4096})
  const count = LONG_WORK.segments + 1
  for (let i = 1; i <= count; i++) {
    manager.append(Buffer.from(`record ${i}`))
    if (i < count) manager.rotate()
  }
  manager.close()
  return dir
}

test('walctl verify at a terminal on a long WAL: a bar while it reads, erased before the report', (t) => {
  const dir = longWal()
  const r = walctlTty(['verify', dir, '--verbose'], {columns: 100, env: {NO_COLOR: '1'}})
  t.is(r.code, 0)
  t.true(r.output.startsWith(`${ERASE}verify [`), JSON.stringify(r.output.slice(0, 60)))
  t.regex(r.output, new RegExp(`\\d+/${LONG_WORK.segments + 1} segments`))
  const report = r.output.slice(r.output.lastIndexOf(ERASE) + ERASE.length)
  t.regex(report, /^wal_000001\.log /)
  t.regex(report, new RegExp(`clean: ${LONG_WORK.segments + 1} segment\\(s\\), ${LONG_WORK.segments + 1} record\\(s\\)`))
  t.notRegex(report, /verify \[/)
})

test('walctl verify: no bar on a short WAL, under --json, with --quiet, or in a pipe', (t) => {
  const long = longWal()
  const short = copyFixture('small')
  t.notRegex(walctlTty(['verify', short]).output, /verify \[/)
  const json = walctlTty(['verify', long, '--json'])
  t.notRegex(json.output, /verify \[|\x1b/)
  t.is((JSON.parse(json.output) as {segments: unknown[]}).segments.length, LONG_WORK.segments + 1)
  t.is(walctlTty(['verify', long, '--quiet']).output, '')
  const piped = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'verify', long], {encoding: 'utf8'})
  t.is(piped.status, 0)
  t.is(piped.stderr, '')
})

test('walctl dump --stats at a terminal on a long WAL: a bar, erased before the table', (t) => {
  const r = walctlTty(['dump', longWal(), '--stats'], {columns: 100})
  t.is(r.code, 0)
  t.true(r.output.startsWith(`${ERASE}dump [`), JSON.stringify(r.output.slice(0, 60)))
  t.notRegex(r.output.slice(r.output.lastIndexOf(ERASE)), /dump \[/)
  t.notRegex(walctlTty(['dump', longWal(), '--stats', '--json']).output, /dump \[/)
})

test('walctl recover and gc at a terminal on a long WAL: a bar over their scan, erased before the report', (t) => {
  const recover = walctlTty(['recover', longWal()], {columns: 100})
  t.is(recover.code, 0)
  t.true(recover.output.startsWith(`${ERASE}recover [`), JSON.stringify(recover.output.slice(0, 60)))
  t.notRegex(recover.output.slice(recover.output.lastIndexOf(ERASE)), /recover \[/)
  // gc scans every segment: those it keeps, and those it removes (for damage and records found past it).
  const gc = walctlTty(['gc', longWal(), '--upto', '2:89'], {columns: 100})
  t.is(gc.code, 0, gc.output)
  t.true(gc.output.startsWith(`${ERASE}gc [`), JSON.stringify(gc.output.slice(0, 60)))
  t.regex(gc.output, new RegExp(`/${LONG_WORK.segments + 1} segments`))
  t.notRegex(gc.output.slice(gc.output.lastIndexOf(ERASE)), /gc \[/)
  t.notRegex(walctlTty(['gc', longWal(), '--upto', '2:89', '--json']).output, /gc \[/)
  t.notRegex(walctlTty(['recover', longWal(), '--json']).output, /recover \[/)
})
