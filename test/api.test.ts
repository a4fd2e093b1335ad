// The library API as a consumer sees it: a project whose node_modules holds
// walctl imports it by name, runs the example of docs/API.md and type-checks it.
import test from 'ava'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ROOT} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

const API_DOC = path.join(ROOT, 'docs', 'API.md')

/** The first ```js block after "## Example" and the ```text block after it. */
function exampleFromDoc(): {code: string; output: string} {
  const doc = fs.readFileSync(API_DOC, 'utf8')
  const section = doc.slice(doc.indexOf('## Example'))
  const code = /```js\n([\s\S]*?)```/.exec(section)
  const output = /```text\n([\s\S]*?)```/.exec(section)
  if (!code || !output) throw new Error('docs/API.md has no ## Example with a js block and a text block')
  return {code: code[1], output: output[1]}
}

/** A project beside nothing of walctl's: walctl (and @types for tsc) linked into its node_modules. */
function consumerProject(): string {
  const dir = tempDir('walctl-consumer-')
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), {recursive: true})
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'walctl'), 'dir')
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({name: 'consumer', private: true, type: 'module'}))
  return dir
}

test('the example of docs/API.md runs in a consumer project and prints what the document says', (t) => {
  const {code, output} = exampleFromDoc()
  t.regex(code, /from 'walctl'/)
  const dir = consumerProject()
  fs.writeFileSync(path.join(dir, 'example.mjs'), code)
  const r = spawnSync(process.execPath, ['example.mjs'], {cwd: dir, encoding: 'utf8', timeout: 60_000})
  t.is(r.stderr, '')
  t.is(r.status, 0)
  t.is(r.stdout, output)
})

test('the example type-checks against the shipped declarations under strict TypeScript', (t) => {
  const {code} = exampleFromDoc()
  const dir = consumerProject()
  fs.writeFileSync(path.join(dir, 'example.mts'), code)
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', 'example.mts'], {cwd: dir, encoding: 'utf8', timeout: 60_000})
  t.is(r.stdout + r.stderr, '')
  t.is(r.status, 0)
})

test('a type error against the declarations is caught (the check above can fail)', (t) => {
  const dir = consumerProject()
  fs.writeFileSync(path.join(dir, 'wrong.mts'), "import {verify} from 'walctl'\nconst n: number = verify('/nonexistent').verdict\nconsole.log(n)\n")
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', 'wrong.mts'], {cwd: dir, encoding: 'utf8', timeout: 60_000})
  t.not(r.status, 0)
  t.regex(r.stdout, /wrong\.mts\(2,7\): error TS2322/)
})

test('the package exports the API the issue names, with declarations for each', async (t) => {
  const dir = consumerProject()
  const probe = `import * as w from 'walctl'
const names = ['WalManager', 'WalSegment', 'scan', 'verify', 'recover', 'gc', 'acquireWriterLock', 'WalError', 'ExitCode', 'scanWal', 'verifyWal', 'recoverWal', 'renderMetrics', 'writeMetricsFile']
console.log(JSON.stringify(Object.fromEntries(names.map((n) => [n, typeof w[n]]))))
console.log(w.scan === w.scanWal, w.verify === w.verifyWal, w.recover === w.recoverWal, w.gc === w.collectGarbage, w.ExitCode.LOCKED)
`
  fs.writeFileSync(path.join(dir, 'probe.mjs'), probe)
  const r = spawnSync(process.execPath, ['probe.mjs'], {cwd: dir, encoding: 'utf8'})
  t.is(r.status, 0, r.stderr)
  const [types, same] = r.stdout.trim().split('\n')
  t.deepEqual(JSON.parse(types), {
    WalManager: 'function', WalSegment: 'function', scan: 'function', verify: 'function', recover: 'function', gc: 'function', acquireWriterLock: 'function', WalError: 'function',
    ExitCode: 'object', scanWal: 'function', verifyWal: 'function', recoverWal: 'function', renderMetrics: 'function', writeMetricsFile: 'function',
  })
  t.is(same, 'true true true true 75')
  const dts = fs.readFileSync(path.join(ROOT, 'dist', 'index.d.ts'), 'utf8')
  for (const name of ['WalManager', 'WalSegment', 'scanWal as scan', 'verifyWal as verify', 'recoverWal as recover', 'VerifyReport', 'RecoverResult', 'WalScanOptions']) {
    t.true(dts.includes(name), `dist/index.d.ts declares ${name}`)
  }
})

test('a library error carries the exit code, file and offset the CLI would report', (t) => {
  const dir = consumerProject()
  const wal = path.join(dir, 'wal')
  fs.writeFileSync(path.join(dir, 'err.mjs'), `import {WalManager, WalError} from 'walctl'
WalManager.init(${JSON.stringify(wal)}, {segmentSize: 4096}).close()
try {
  WalManager.init(${JSON.stringify(wal)}, {segmentSize: 4096})
} catch (e) {
  console.log(e instanceof WalError, e.exitCode, e.file)
}
try {
  WalManager.open(${JSON.stringify(path.join(dir, 'nowhere'))})
} catch (e) {
  console.log(e instanceof WalError, e.exitCode)
}
`)
  const r = spawnSync(process.execPath, ['err.mjs'], {cwd: dir, encoding: 'utf8'})
  t.is(r.status, 0, r.stderr)
  t.deepEqual(r.stdout.trim().split('\n'), [`true 73 ${wal}`, 'true 66'])
})

test('the writer-lock example of docs/API.md runs: it appends under the lock and releases it', (t) => {
  const doc = fs.readFileSync(API_DOC, 'utf8')
  const block = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('acquireWriterLock(dir'))
  if (!block) return t.fail('docs/API.md has no writer-lock example')
  const dir = consumerProject()
  const root = path.join(dir, 'index')
  const init = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'init', path.join(root, 'wal'), '--segment-size', '4KiB'], {encoding: 'utf8'})
  t.is(init.status, 0, init.stderr)
  fs.writeFileSync(path.join(dir, 'lock.mjs'), block.replaceAll('/var/lib/shardex/index', root) + `\nconsole.log(lock.held)\n`)
  const r = spawnSync(process.execPath, ['lock.mjs'], {cwd: dir, encoding: 'utf8', timeout: 60_000})
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, 'false\n', 'released')
  const verify = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'verify', root, '--json'], {encoding: 'utf8'})
  t.is((JSON.parse(verify.stdout) as {records: number}).records, 1)
})
