// Prometheus textfile metrics: the exposition format node_exporter's textfile
// collector accepts, the numbers of a real verify, and an atomic replace.
import test from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {WalError} from '../src/core/errors.js'
import {escapeLabelValue, failedVerifyMetrics, renderMetrics, verifyMetrics, writeMetricsFile} from '../src/core/read/metrics.js'
import {verifyWal} from '../src/core/read/verify.js'
import {walctl} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'
import {parseExposition, value} from './helpers/exposition.js'

const timing = {finishedAtMs: 1_795_000_000_123, durationMs: 42.5}

test('a clean fixture: every metric the issue names, in valid exposition format', (t) => {
  const dir = copyFixture('rotation')
  const report = verifyWal(dir)
  const samples = parseExposition(renderMetrics(verifyMetrics(report, timing)))
  const wal = {wal: report.dir}
  t.is(value(samples, 'walctl_verify_success', wal), 1)
  t.is(value(samples, 'walctl_verify_exit_code', wal), 0)
  t.is(value(samples, 'walctl_verify_verdict', wal), 0)
  t.is(value(samples, 'walctl_verify_state', {state: 'clean'}), 1)
  t.is(value(samples, 'walctl_verify_state', {state: 'damaged'}), 0)
  t.is(value(samples, 'walctl_verify_segments', wal), 5)
  t.is(value(samples, 'walctl_verify_records', wal), report.records)
  t.is(value(samples, 'walctl_verify_bytes', wal), fs.readdirSync(report.dir).reduce((n, f) => n + fs.statSync(path.join(report.dir, f)).size, 0))
  t.is(value(samples, 'walctl_verify_payload_bytes', wal), report.payloadBytes)
  t.is(value(samples, 'walctl_verify_damaged_bytes', wal), 0)
  t.is(value(samples, 'walctl_verify_problems', {severity: 'damaged'}), 0)
  t.is(value(samples, 'walctl_verify_last_run_timestamp_seconds', wal), 1_795_000_000.123)
  t.is(value(samples, 'walctl_verify_duration_seconds', wal), 0.0425)
  t.true(samples.every((s) => s.labels.wal === report.dir), 'every series carries the wal label')
})

test('a torn tail: repairable verdict, damaged bytes and problem counts', (t) => {
  const dir = copyFixture('small')
  const file = path.join(dir, 'wal', 'wal_000001.log')
  const report0 = verifyWal(dir)
  const fd = fs.openSync(file, 'r+')
  const torn = Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 9, 9])
  fs.writeSync(fd, torn, 0, torn.length, report0.segments[0].cleanEnd)
  fs.closeSync(fd)
  const report = verifyWal(dir, {settleTries: 0})
  t.is(report.verdict, 'repairable')
  const samples = parseExposition(renderMetrics(verifyMetrics(report, timing)))
  t.is(value(samples, 'walctl_verify_verdict'), 1)
  t.is(value(samples, 'walctl_verify_exit_code'), 1)
  t.is(value(samples, 'walctl_verify_state', {state: 'repairable'}), 1)
  t.is(value(samples, 'walctl_verify_state', {state: 'clean'}), 0)
  t.is(value(samples, 'walctl_verify_damaged_bytes'), report.damagedBytes)
  t.true(report.damagedBytes > 0)
  t.is(value(samples, 'walctl_verify_problems', {severity: 'repairable'}), report.problems.filter((p) => p.severity === 'repairable').length)
  t.is(value(samples, 'walctl_verify_records'), 10)
})

test('a failed verify: success 0 with its exit code, and no verdict series', (t) => {
  const samples = parseExposition(renderMetrics(failedVerifyMetrics('/var/lib/missing', 66, timing)))
  t.is(value(samples, 'walctl_verify_success'), 0)
  t.is(value(samples, 'walctl_verify_exit_code'), 66)
  t.is(value(samples, 'walctl_verify_verdict'), undefined)
  t.is(value(samples, 'walctl_verify_state'), undefined)
  t.is(value(samples, 'walctl_verify_last_run_timestamp_seconds'), 1_795_000_000.123)
})

test('label values are escaped: backslash, double quote, newline', (t) => {
  t.is(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
  const odd = '/srv/we"ird\\dir\nname'
  const samples = parseExposition(renderMetrics(failedVerifyMetrics(odd, 74, timing)))
  t.true(samples.length > 0)
  t.true(samples.every((s) => s.labels.wal === odd))
})

test('the reader above rejects what node_exporter would (so the checks can fail)', (t) => {
  t.throws(() => parseExposition('walctl_x 1\n'), {message: /before its HELP and TYPE/})
  t.throws(() => parseExposition('# HELP a b\n# TYPE a gauge\na{wal="x} 1\n'), {message: /bad labels/})
  t.throws(() => parseExposition('# HELP a b\n# TYPE a gauge\na 1'), {message: /newline/})
  t.throws(() => parseExposition('# HELP a b\n# TYPE a gauge\na one\n'), {message: /bad value/})
})

test('writeMetricsFile replaces the file by rename: a reader of the old file still sees it whole, no temporary file is left', (t) => {
  const dir = tempDir()
  const file = path.join(dir, 'walctl.prom')
  writeMetricsFile(file, 'first 1\n')
  const before = fs.statSync(file)
  const oldFd = fs.openSync(file, 'r')
  writeMetricsFile(file, 'second 2\n')
  const after = fs.statSync(file)
  t.not(after.ino, before.ino, 'a new inode: renamed into place, not rewritten in place')
  t.is(fs.readFileSync(oldFd, 'utf8'), 'first 1\n')
  fs.closeSync(oldFd)
  t.is(fs.readFileSync(file, 'utf8'), 'second 2\n')
  t.deepEqual(fs.readdirSync(dir), ['walctl.prom'])
  t.is(after.mode & 0o777 & ~0o022, 0o644 & ~0o022, 'readable by the collector')
})

test('writeMetricsFile into a missing directory or onto a directory: WalError 73, nothing left behind', (t) => {
  const dir = tempDir()
  const missing = t.throws(() => writeMetricsFile(path.join(dir, 'nope', 'w.prom'), 'x 1\n'), {instanceOf: WalError}) as WalError
  t.is(missing.exitCode, 73)
  t.is(missing.file, path.join(dir, 'nope', 'w.prom'))
  fs.mkdirSync(path.join(dir, 'taken.prom'))
  const onDir = t.throws(() => writeMetricsFile(path.join(dir, 'taken.prom'), 'x 1\n'), {instanceOf: WalError}) as WalError
  t.is(onDir.exitCode, 73)
  t.deepEqual(fs.readdirSync(dir), ['taken.prom'])
})

function tearTail(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'wal', 'wal_000001.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5]), 0, 9, 839)
  fs.closeSync(fd)
}

test('walctl verify --prometheus: the verdict of each run in the file, labelled with the path given', (t) => {
  const textfile = tempDir()
  const file = path.join(textfile, 'walctl.prom')
  const root = copyFixture('small')
  const clean = walctl(['verify', root, '--prometheus', file])
  t.is(clean.code, 0, clean.stderr)
  t.regex(clean.stdout, /^clean: /m, 'the report is printed as usual')
  let samples = parseExposition(fs.readFileSync(file, 'utf8'))
  t.is(value(samples, 'walctl_verify_success', {wal: root}), 1)
  t.is(value(samples, 'walctl_verify_verdict', {wal: root}), 0)
  t.is(value(samples, 'walctl_verify_records', {wal: root}), 10)
  const ran = value(samples, 'walctl_verify_last_run_timestamp_seconds')!
  t.true(Math.abs(ran - Date.now() / 1000) < 600, 'last run is now')
  t.true(value(samples, 'walctl_verify_duration_seconds')! >= 0)

  tearTail(root)
  const torn = walctl(['verify', root, '--quiet', '--prometheus', file])
  t.is(torn.code, 1)
  t.is(torn.stdout, '')
  samples = parseExposition(fs.readFileSync(file, 'utf8'))
  t.is(value(samples, 'walctl_verify_verdict', {wal: root}), 1)
  t.is(value(samples, 'walctl_verify_state', {wal: root, state: 'repairable'}), 1)
  t.true(value(samples, 'walctl_verify_damaged_bytes', {wal: root})! > 0)

  const gone = path.join(tempDir(), 'gone')
  const failed = walctl(['verify', gone, '--prometheus', file])
  t.is(failed.code, 66)
  samples = parseExposition(fs.readFileSync(file, 'utf8'))
  t.is(value(samples, 'walctl_verify_success', {wal: gone}), 0)
  t.is(value(samples, 'walctl_verify_exit_code', {wal: gone}), 66)
  t.deepEqual(fs.readdirSync(textfile), ['walctl.prom'], 'no temporary file left for the collector to trip on')
})

test('walctl verify --prometheus --json: the JSON on stdout is unchanged, the metrics in the file', (t) => {
  const file = path.join(tempDir(), 'w.prom')
  const root = copyFixture('rotation')
  const r = walctl(['verify', root, '--json', '--prometheus', file])
  t.is(r.code, 0)
  t.is(r.stderr, '')
  t.is((JSON.parse(r.stdout) as {records: number}).records, 34)
  t.is(value(parseExposition(fs.readFileSync(file, 'utf8')), 'walctl_verify_segments'), 5)
})

test('walctl verify --prometheus into a missing directory: exit 73 naming the file, with and without --json', (t) => {
  const file = path.join(tempDir(), 'no', 'such', 'dir', 'w.prom')
  const r = walctl(['verify', copyFixture('small'), '--prometheus', file])
  t.is(r.code, 73)
  t.is(r.stderr, `walctl: ${file}: cannot write metrics: the directory does not exist\n`)
  const j = walctl(['verify', copyFixture('small'), '--prometheus', file, '--json'])
  t.is(j.code, 73)
  t.like(JSON.parse(j.stdout), {error: {exitCode: 73, file}})
})
