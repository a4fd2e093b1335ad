// The README holds what it promises: its set-up and test blocks stay first,
// its exit code table and metrics are walctl's, every walctl command line in
// it names real commands and flags, and the cookbook recipes run as written
// (paths moved into a temporary directory).
import test from 'ava'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {EXIT_CODES} from '../src/cli/help.js'
import {WalManager} from '../src/core/write/manager.js'
import {renderMetrics, verifyMetrics} from '../src/core/read/metrics.js'
import {verifyWal} from '../src/core/read/verify.js'
import {BIN, ROOT} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'
import {parseExposition} from './helpers/exposition.js'

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, {char?: string; allowNo?: boolean}>}>}

function codeBlocks(text: string): Array<{lang: string; body: string}> {
  return [...text.matchAll(/^ *```(\w*)\n([\s\S]*?)^ *```/gm)].map((m) => ({lang: m[1], body: m[2].replace(/^ {2}/gm, '')}))
}

/** The text of the README section whose heading contains `title`, up to the next heading of the same or a higher level. */
function section(title: string): string {
  const m = new RegExp(`^(#+) [^\\n]*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*$`, 'm').exec(README)
  if (!m) throw new Error(`README has no section '${title}'`)
  const rest = README.slice(m.index + m[0].length).split('\n')
  let fenced = false
  // A `# comment` inside a code block is not a heading.
  const end = rest.findIndex((line) => {
    if (/^ *```/.test(line)) fenced = !fenced
    return !fenced && new RegExp(`^#{1,${m[1].length}} `).test(line)
  })
  return (end < 0 ? rest : rest.slice(0, end)).join('\n')
}

/** walctl command lines in a text's code blocks, cut at `&&`, `||`, `|`, `>`, `;`. */
function walctlLines(text: string): string[] {
  const lines: string[] = []
  for (const {body} of codeBlocks(text)) {
    for (const line of body.split('\n')) {
      const at = line.search(/(?:^|\s)(walctl|bin\/run\.js) /)
      if (at < 0 || line.trimStart().startsWith('#') || /printf|sha256sum/.test(line)) continue
      lines.push(line.slice(at).trim().split(/\s(?:&&|\|\||\||>|;)\s/)[0].trim())
    }
  }
  return lines
}

test('the README keeps npm ci and npm test as its first two code blocks', (t) => {
  const [first, second] = codeBlocks(README)
  t.is(first.body.trim(), 'npm ci')
  t.is(second.body.trim(), 'npm test')
})

test('the README exit code table is the one walctl --help prints', (t) => {
  const table = section('Exit codes')
  const codes = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]))
  t.deepEqual(codes, EXIT_CODES.map(([c]) => c))
})

test('every metric the README names is one verify --prometheus writes, and the other way round', (t) => {
  const written = new Set(parseExposition(renderMetrics(verifyMetrics(verifyWal(copyFixture('small')), {finishedAtMs: 0, durationMs: 0}))).map((s) => s.name))
  const named = new Set([...README.matchAll(/\bwalctl_verify_[a-z_]+\b/g)].map((m) => m[0]))
  t.deepEqual([...named].filter((n) => !written.has(n)), [], 'named in the README but never written')
  t.deepEqual([...written].filter((n) => !named.has(n)), [], 'written but not in the README')
})

test('every walctl command line in the README names a real command and its real flags', (t) => {
  const lines = walctlLines(README)
  t.true(lines.length >= 20, `${lines.length} command lines`)
  for (const line of lines) {
    const words = line.split(/\s+/)
    const command = words[1]
    const spec = manifest.commands[command]
    if (!['autocomplete', 'help'].includes(command)) t.truthy(spec, `${line}: command ${command}`)
    if (!spec) continue
    const known = new Set(['--help', ...Object.keys(spec.flags).flatMap((f) => [`--${f}`, ...(spec.flags[f].allowNo ? [`--no-${f}`] : [])]), ...Object.values(spec.flags).filter((f) => f.char).map((f) => `-${f.char}`)])
    for (const word of words.slice(2)) {
      if (/^-/.test(word)) t.true(known.has(word.split('=')[0]), `${line}: ${word} is a flag of ${command}`)
    }
  }
})

/** Runs a README command line in bash with `walctl` as this checkout's CLI and the README's paths moved. */
function sh(line: string, paths: Record<string, string>, cwd: string): {code: number; stdout: string; stderr: string} {
  let command = line
  for (const [from, to] of Object.entries(paths)) command = command.replaceAll(from, to)
  const script = `walctl() { ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"; }\n${command}`
  const env = {...process.env, NO_COLOR: '1'}
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {cwd, env, encoding: 'utf8', timeout: 120_000})
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

function tearTail(root: string): void {
  const manifestFile = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8')) as {segments: Array<{file: string; write_pointer: number}>}
  const last = manifestFile.segments.at(-1)!
  const fd = fs.openSync(path.join(root, 'wal', path.basename(last.file)), 'r+')
  fs.writeSync(fd, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5]), 0, 9, last.write_pointer)
  fs.closeSync(fd)
}

test('cookbook: the nightly cron verify writes metrics the collector can read', (t) => {
  const cron = section('nightly verify')
  const entry = codeBlocks(cron).find((b) => b.lang === 'sh')!.body.split('\n').find((l) => l.includes('walctl verify'))!
  const line = entry.slice(entry.indexOf('walctl verify'))
  const root = copyFixture('rotation')
  const textfile = tempDir()
  const r = sh(line, {'/var/lib/shardex/index': root, '/var/lib/node_exporter/textfile': textfile}, textfile)
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout, '', '--quiet: nothing for cron to mail')
  const prom = fs.readdirSync(textfile).filter((f) => f.endsWith('.prom'))
  t.is(prom.length, 1)
  const samples = parseExposition(fs.readFileSync(path.join(textfile, prom[0]), 'utf8'))
  t.is(samples.find((s) => s.name === 'walctl_verify_verdict')?.value, 0)
  // The alert rules use only these metrics (checked above) and valid comparisons.
  const rules = codeBlocks(cron).find((b) => b.lang === 'yaml')!.body
  for (const m of rules.matchAll(/expr: (.+)$/gm)) t.regex(m[1], /^(time\(\) - )?walctl_verify_[a-z_]+ (==|>|>=) [\d *]+$/)
})

test('cookbook: "Shardex refuses to start" on a torn tail, then on a lost record, as the recipe says', (t) => {
  const lines = walctlLines(section('Shardex refuses to start'))
  const verify = lines.filter((l) => l.startsWith('walctl verify'))
  t.true(verify.length >= 1)
  const torn = copyFixture('rotation')
  tearTail(torn)
  const paths = (root: string) => ({'/var/lib/shardex/index': root})
  t.is(sh(verify[0], paths(torn), torn).code, 1, 'verify: repairable')
  // The recipe starts with explain; Shardex would name the torn record's offset, the write pointer here.
  const explain = lines.find((l) => l.startsWith('walctl explain'))!
  const tornAt = (JSON.parse(fs.readFileSync(path.join(torn, 'manifest.json'), 'utf8')) as {segments: Array<{write_pointer: number}>}).segments.at(-1)!.write_pointer
  const explained = sh(explain.replace(/position \d+/, `position ${tornAt}`), paths(torn), torn)
  t.is(explained.code, 0, explained.stderr)
  t.regex(explained.stdout, new RegExp(`^where: +wal_000005\\.log offset ${tornAt} `, 'm'))
  t.regex(explained.stdout, /^repair: +walctl recover .* --dry-run$/m)
  const repair = lines.filter((l) => l.startsWith('walctl recover') && !l.includes('--mode'))
  t.true(repair.length >= 2)
  for (const line of repair) t.is(sh(line, paths(torn), torn).code, 0, line)
  t.is(sh(verify[0], paths(torn), torn).code, 0, 'clean after the repair')
  t.true(fs.readdirSync(path.join(torn, 'wal', 'quarantine')).length > 0, 'the original is kept in quarantine')

  const damaged = copyFixture('rotation')
  const fd = fs.openSync(path.join(damaged, 'wal', 'wal_000005.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 100)
  fs.closeSync(fd)
  t.is(sh(verify[0], paths(damaged), damaged).code, 2, 'verify: damaged')
  t.is(sh('walctl recover /var/lib/shardex/index', paths(damaged), damaged).code, 2, 'the default mode refuses')
  const modes = lines.filter((l) => l.startsWith('walctl recover') && l.includes('--mode'))
  t.true(modes.length >= 3)
  for (const line of modes) t.is(sh(line, paths(damaged), damaged).code, 0, line)
  t.is(sh(verify[0], paths(damaged), damaged).code, 0, 'clean after point-in-time')
})

test('cookbook: the forensic dump of one segment copied off a broken host', (t) => {
  const work = tempDir()
  // A 64 KiB segment with records around byte 4711 and a flipped byte in one of them.
  const wal = path.join(work, 'host')
  const manager = WalManager.init(wal, {segmentSize: 64 * 1024})
  for (let i = 0; i < 200; i++) manager.append(Buffer.from(`record ${i} `.repeat(5)))
  manager.close()
  fs.mkdirSync(path.join(work, 'evidence'))
  const copy = path.join(work, 'evidence', 'wal_000042.log')
  fs.copyFileSync(path.join(wal, 'wal_000001.log'), copy)
  const fd = fs.openSync(copy, 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 2000)
  fs.closeSync(fd)
  fs.chmodSync(copy, 0o444)
  const before = fs.readFileSync(copy)
  const lines = walctlLines(section('forensic dump'))
  t.true(lines.length >= 5)
  const out: Record<string, string> = {}
  for (const line of section('forensic dump').split('\n').filter((l) => /^walctl /.test(l))) {
    const r = sh(line, {}, work)
    t.is(r.code, line.startsWith('walctl verify') ? 2 : 0, `${line}: ${r.stderr}`)
    out[line] = r.stdout
  }
  t.deepEqual(fs.readFileSync(copy), before, 'the evidence is unchanged')
  const jsonl = fs.readFileSync(path.join(work, 'evidence', 'wal_000042.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as {kind?: string; resynced?: boolean})
  t.true(jsonl.some((e) => e.kind === 'crc-mismatch'))
  t.true(jsonl.some((e) => e.resynced === true))
  const record = fs.readFileSync(path.join(work, 'evidence', 'record-4711.bin'), 'utf8')
  t.regex(record, /^(record \d+ ){5}$/)
})

test('cookbook: gc after a flush', (t) => {
  const root = path.join(tempDir(), 'index')
  const manager = WalManager.init(path.join(root, 'wal'), {segmentSize: 4096})
  for (let i = 0; i < 44; i++) {
    manager.append(Buffer.from(`segment ${i + 1}`.padEnd(992, '.'))) // one 1000-byte record: 42:1089 is the end of segment 42's
    manager.rotate()
  }
  manager.close()
  const lines = walctlLines(section('gc after a flush'))
  t.true(lines.length >= 2)
  const archive = tempDir()
  for (const line of lines) {
    const r = sh(line, {'/var/lib/shardex/index': root, '/backup/shardex-wal': archive}, root)
    t.is(r.code, 0, `${line}: ${r.stderr}`)
  }
  const left = fs.readdirSync(path.join(root, 'wal')).filter((f) => f.startsWith('wal_')).sort()
  t.is(left[0], 'wal_000042.log', 'everything wholly before 42:1089 is gone, 42 stays')
})
