// Start-up: bin/run.js answers --version itself, without loading oclif (its
// line must be exactly the one oclif prints); everything else runs the bundle
// (oclif and every command in one file) with the build's code cache, and must
// behave as it does from any other copy of the package.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'
import test from 'ava'
import {BIN, ROOT, walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

function oclifVersion(args: string[]): string {
  const script = `import {execute, settings} from '@oclif/core'; settings.enableAutoTranspile = false; await execute({dir: ${JSON.stringify(pathToFileURL(BIN).href)}, args: ${JSON.stringify(args)}})`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT, env: {...process.env, NO_COLOR: '1'}})
  return r.stdout.toString()
}

test('walctl --version prints exactly what oclif prints, exit 0', (t) => {
  const r = walctl(['--version'])
  t.is(r.code, 0)
  t.is(r.stderr, '')
  t.regex(r.stdout, /^walctl\/\d+\.\d+\.\d+\S* \S+-\S+ node-v\d+\.\d+\.\d+\n$/)
  t.is(r.stdout, oclifVersion(['--version']))
})

test('extra words after --version are ignored, as oclif ignores them', (t) => {
  const r = walctl(['--version', 'verify'])
  t.is(r.code, 0)
  t.is(r.stdout, oclifVersion(['--version', 'verify']))
})

test('the additional version flags of package.json are honoured the same way', (t) => {
  const pjson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {oclif: {additionalVersionFlags?: string[]}}
  for (const flag of pjson.oclif.additionalVersionFlags ?? []) {
    const r = walctl([flag])
    t.is(r.code, 0, flag)
    t.is(r.stdout, oclifVersion([flag]), flag)
  }
  t.pass()
})

test('anything else still goes through oclif: --help lists the commands, an unknown option is refused', (t) => {
  const help = walctl(['--help'])
  t.is(help.code, 0)
  for (const id of ['init', 'append', 'verify', 'dump']) t.regex(help.stdout, new RegExp(`\\b${id}\\b`))
  const v = walctl(['--no-such-option'])
  t.not(v.code, 0)
  t.is(v.stdout, '')
  t.regex(v.stderr, /no-such-option/)
})

test('the mmap binding loads without @mapbox/node-pre-gyp, and maps, writes and syncs a file', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walctl-startup-'))
  try {
    const file = path.join(dir, 'probe.bin')
    fs.writeFileSync(file, Buffer.alloc(8192))
    const script = `
      import {createRequire} from 'node:module'
      import * as fs from 'node:fs'
      const {mmap} = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'src', 'core', 'write', 'mmap.ts')).href)})
      const fd = fs.openSync(${JSON.stringify(file)}, 'r+')
      const map = mmap.map(8192, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
      fs.closeSync(fd)
      map.write('walctl', 4096)
      mmap.sync(map, 4096, 4096, true, false)
      mmap.sync(map, true)
      const cache = Object.keys(createRequire(import.meta.url).cache)
      console.log(JSON.stringify({preGyp: cache.some((k) => k.includes('node-pre-gyp')), binding: cache.some((k) => k.endsWith('.node'))}))`
    const r = spawnSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], {cwd: ROOT})
    t.is(r.status, 0, r.stderr.toString())
    t.deepEqual(JSON.parse(r.stdout.toString()), {preGyp: false, binding: true})
    t.is(fs.readFileSync(file).toString('latin1', 4096, 4102), 'walctl')
  } finally {
    fs.rmSync(dir, {recursive: true, force: true})
  }
})

// The bundle: bin/run.js runs dist/bundle/main.cjs (oclif and every command in
// one file, scripts/build.mjs) with the V8 code cache the build made beside it.

/** A copy of the package holding only what the CLI needs at run time: bin/, the bundle, package.json, the manifest. */
function cliOnlyCopy(): string {
  const dir = tempDir('walctl-cli-only-')
  for (const f of ['package.json', 'oclif.manifest.json', 'bin/run.js', 'bin/bundle.cjs', 'dist/bundle/main.cjs', 'dist/bundle/main.cjs.cache']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), {recursive: true})
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f))
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  return dir
}

function runIn(root: string, args: string[], env: NodeJS.ProcessEnv = {}): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {env: {...process.env, NO_COLOR: '1', ...env}, timeout: 60_000})
  return {code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString()}
}

/** The same session of commands (help, errors, a plugin's command, a write, a read) in a package root, as exit codes and outputs. */
function session(root: string): Array<{code: number; stdout: string; stderr: string}> {
  const wal = path.join(tempDir('walctl-session-'), 'wal')
  const runs = [
    ['--help'], ['help', 'verify'], ['verify', '--help'], ['frobnicate'], ['verify', '--no-such-flag'],
    ['init', wal, '--segment-size', '64KiB'], ['append', wal, 'one', 'two'], ['verify', wal, '--json'], ['dump', wal, '--limit', '1'],
    ['autocomplete', 'bash'], ['verify', path.join(wal, 'missing')],
  ].map((args) => runIn(root, args))
  // The WAL's path and node's process ids in warnings differ between sessions: compare the rest.
  const same = (s: string): string => s.replaceAll(wal, 'WAL').replace(/^\(node:\d+\)/gm, '(node)')
  return runs.map((r) => ({...r, stdout: same(r.stdout), stderr: same(r.stderr)}))
}

test('the build made a code cache that this node accepts, writable by its owner only', (t) => {
  // V8 runs what the cache holds.
  t.is(fs.statSync(path.join(ROOT, 'dist', 'bundle', 'main.cjs.cache')).mode & 0o022, 0)
  const script = `const {loadBundle} = require(${JSON.stringify(path.join(ROOT, 'bin', 'bundle.cjs'))}); const {script} = loadBundle(); console.log(JSON.stringify({rejected: script.cachedDataRejected}))`
  const r = spawnSync(process.execPath, ['-e', script], {cwd: ROOT})
  t.is(r.status, 0, r.stderr.toString())
  t.deepEqual(JSON.parse(r.stdout.toString()), {rejected: false})
})

test('the CLI needs nothing of dist/ but the bundle, and runs the same with a missing or foreign code cache', (t) => {
  t.timeout(5 * 60_000, 'three sessions of eleven commands each')
  const copy = cliOnlyCopy()
  t.false(fs.existsSync(path.join(copy, 'dist', 'commands')))
  const reference = session(ROOT)
  t.is(reference[0].code, 0)
  t.regex(reference[0].stdout, /EXIT CODES/)
  t.is(reference[3].code, 64)
  t.is(reference[4].code, 64)
  t.is(reference[7].code, 0, reference[7].stderr)
  t.is(reference[10].code, 66)
  t.deepEqual(session(copy), reference, 'only the bundle')
  fs.rmSync(path.join(copy, 'dist', 'bundle', 'main.cjs.cache'))
  t.deepEqual(session(copy), reference, 'no code cache')
  // Bytes of the right length that V8 did not make: refused, and the bundle compiled as usual.
  fs.writeFileSync(path.join(copy, 'dist', 'bundle', 'main.cjs.cache'), Buffer.alloc(fs.statSync(path.join(ROOT, 'dist', 'bundle', 'main.cjs.cache')).size, 7))
  t.deepEqual(session(copy), reference, 'a foreign code cache')
})

test('a command loads no other module of walctl or oclif, and the mmap binding without node-pre-gyp', (t) => {
  const wal = path.join(tempDir('walctl-modules-'), 'wal')
  t.is(walctl(['init', wal]).code, 0)
  const probe = path.join(tempDir('walctl-probe-'), 'probe.cjs')
  const out = `${probe}.json`
  fs.writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))))\n`)
  const r = walctl(['append', wal, 'x'], {preload: probe})
  t.is(r.code, 0, r.stderr)
  const loaded = (JSON.parse(fs.readFileSync(out, 'utf8')) as string[]).filter((f) => f !== probe)
  const mine = loaded.filter((f) => f.startsWith(ROOT + path.sep) && !f.includes(`${path.sep}node_modules${path.sep}`)).map((f) => path.relative(ROOT, f)).sort()
  t.deepEqual(mine, ['bin/bundle.cjs', 'dist/bundle/main.cjs'])
  t.deepEqual(loaded.filter((f) => f.includes('@oclif') || f.includes('node-pre-gyp')), [])
  t.true(loaded.some((f) => f.endsWith('.node')), 'the mmap binding is loaded')
})

test('the commands a user types most never collate: the first localeCompare loads ICU\'s collation, some 8 ms of a start', (t) => {
  const wal = path.join(tempDir('walctl-collate-'), 'wal')
  t.is(walctl(['init', wal]).code, 0)
  t.is(walctl(['append', wal, 'one', 'two']).code, 0)
  const probe = path.join(tempDir('walctl-probe-'), 'collate.cjs')
  const out = `${probe}.log`
  // Counts every use of collation, whichever way it is reached.
  fs.writeFileSync(probe, `
    const fs = require('node:fs')
    const note = (what) => fs.appendFileSync(${JSON.stringify(out)}, what + '\\n')
    const compare = String.prototype.localeCompare
    String.prototype.localeCompare = function (...args) { note('localeCompare'); return compare.apply(this, args) }
    const Collator = Intl.Collator
    Intl.Collator = function (...args) { note('Intl.Collator'); return new Collator(...args) }
  `)
  const commands = [['verify', wal], ['append', wal, 'x'], ['dump', wal, '--limit', '1'], ['--help'], ['verify', '--help']]
  for (const args of commands) {
    fs.rmSync(out, {force: true})
    const r = walctl(args, {preload: probe})
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    t.false(fs.existsSync(out), `walctl ${args.join(' ')} collated: ${fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : ''}`)
  }
})

test('readers and help leave node:crypto unloaded (some 2.5 ms of a start): archives and writers load it when they need it', (t) => {
  const wal = path.join(tempDir('walctl-crypto-'), 'wal')
  t.is(walctl(['init', wal]).code, 0)
  t.is(walctl(['append', wal, 'one']).code, 0)
  const probe = path.join(tempDir('walctl-probe-'), 'modules.cjs')
  const out = `${probe}.json`
  fs.writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)))\n`)
  const loads = (args: string[]): string[] => {
    const r = walctl(args, {preload: probe})
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return JSON.parse(fs.readFileSync(out, 'utf8')) as string[]
  }
  for (const args of [['verify', wal], ['dump', wal, '--limit', '1'], ['--help'], ['verify', '--help']]) {
    t.false(loads(args).includes('NativeModule crypto'), `walctl ${args.join(' ')} loaded node:crypto`)
  }
  // The probe can see it: a writer takes the lock, whose token is random.
  t.true(loads(['append', wal, 'two']).includes('NativeModule crypto'))
})
