// Packaging: the tarball `npm pack` makes installs globally on a clean prefix
// (the mmap binding compiling as it does for a user), and the installed
// walctl runs: --version, help, a full init/append/verify; and installed in a
// fresh project by the steps docs/API.md gives, it is a library imported by
// name. Slow (npm fetches and builds): one test, a long timeout.
import test from 'ava'
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ROOT} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], options: {cwd: string; env?: NodeJS.ProcessEnv}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd: options.cwd, env: {...process.env, NO_COLOR: '1', ...options.env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code: code ?? -1, stdout, stderr}))
    child.stdin.end()
  })
}

const NPM_ENV = {npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false'}
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {name: string; version: string}

test('npm pack ships the CLI, its manifest and docs; the tarball installs globally and runs, and in a fresh project as docs/API.md says', async (t) => {
  t.timeout(15 * 60_000, 'npm pack and a global install (fetching dependencies, compiling mmap-io)')
  const work = tempDir('walctl-pack-')

  // The build (pretest) has made dist/ and oclif.manifest.json; pack them as they are.
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {cwd: ROOT, env: NPM_ENV})
  t.is(pack.code, 0, pack.stderr)
  const [info] = JSON.parse(pack.stdout) as Array<{filename: string; files: Array<{path: string}>}>
  const files = info.files.map((f) => f.path)
  for (const required of ['package.json', 'README.md', 'LICENSE', 'bin/run.js', 'oclif.manifest.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/help.js', 'docs/API.md', 'docs/FORMAT.md', 'docs/JSON.md']) {
    t.true(files.includes(required), `the tarball holds ${required}`)
  }
  for (const command of fs.readdirSync(path.join(ROOT, 'dist', 'commands')).filter((f) => f.endsWith('.js'))) {
    t.true(files.includes(`dist/commands/${command}`), `the tarball holds dist/commands/${command}`)
  }
  t.deepEqual(files.filter((f) => /^(src|test|bench|node_modules|\.ci)\//.test(f) || f.endsWith('.tgz')), [], 'no sources, tests or dependencies in the tarball')
  t.false(files.includes('bin/dev.js'), 'the development entry point (it needs tsx) is not shipped')
  const tarball = path.join(work, info.filename)
  t.true(fs.existsSync(tarball))

  // A clean prefix: nothing of walctl's or its dependencies is there before.
  const prefix = path.join(work, 'prefix')
  const install = await run('npm', ['install', '-g', '--prefix', prefix, '--allow-scripts=@riaskov/mmap-io', tarball], {cwd: work, env: NPM_ENV})
  t.is(install.code, 0, install.stderr)
  const walctl = path.join(prefix, 'bin', 'walctl')
  t.true(fs.existsSync(walctl), 'the install links bin/walctl')
  const installed = path.join(prefix, 'lib', 'node_modules', 'walctl')
  t.true(fs.existsSync(path.join(installed, 'oclif.manifest.json')))

  const version = await run(walctl, ['--version'], {cwd: work})
  t.is(version.code, 0, version.stderr)
  t.regex(version.stdout, new RegExp(`^walctl/${pkg.version.replaceAll('.', '\\.')} `))

  const help = await run(walctl, ['--help'], {cwd: work})
  t.is(help.code, 0)
  t.regex(help.stdout, /EXIT CODES/)
  for (const command of ['init', 'append', 'rotate', 'verify', 'recover', 'dump', 'completion']) t.regex(help.stdout, new RegExp(`^  ${command} `, 'm'))

  // The whole job, through the installed binary, with the compiled mmap binding.
  const wal = path.join(work, 'wal')
  const init = await run(walctl, ['init', wal, '--segment-size', '64KiB'], {cwd: work})
  t.is(init.code, 0, init.stderr)
  const append = await run(walctl, ['append', wal, 'one', 'two', 'three'], {cwd: work})
  t.is(append.code, 0, append.stderr)
  t.is(append.stdout, '1:89\n1:100\n1:111\n')
  const verify = await run(walctl, ['verify', wal, '--json'], {cwd: work})
  t.is(verify.code, 0, verify.stderr)
  const report = JSON.parse(verify.stdout) as {verdict: string; records: number; payloadBytes: number}
  t.is(report.verdict, 'clean')
  t.is(report.records, 3)
  t.is(report.payloadBytes, 11)

  // The library's install step, run as docs/API.md writes it, in a fresh project holding the tarball.
  const consumer = path.join(work, 'consumer')
  fs.mkdirSync(consumer)
  fs.copyFileSync(tarball, path.join(consumer, `walctl-${pkg.version}.tgz`))
  t.is((await run('npm', ['init', '-y'], {cwd: consumer, env: NPM_ENV})).code, 0)
  const steps = installSteps()
  t.true(steps.some((s) => /^npm install \.\/walctl-[\d.]+\.tgz$/.test(s)), steps.join('\n'))
  for (const step of steps) {
    const r = await run('bash', ['--norc', '--noprofile', '-c', step.replace('walctl-0.1.0.tgz', `walctl-${pkg.version}.tgz`)], {cwd: consumer, env: NPM_ENV})
    t.is(r.code, 0, `${step}: ${r.stderr}`)
    t.notRegex(r.stderr, /EALLOWSCRIPTS|@riaskov\/mmap-io@[\d.]+ \(install/, `${step}: the mmap binding's install script is covered`)
  }
  const binding = path.join(consumer, 'node_modules', 'mmap-io', 'build', 'Release', 'mmap_io.node')
  t.true(fs.existsSync(binding), 'the mmap binding was compiled')
  fs.writeFileSync(path.join(consumer, 'probe.mjs'), `import {verify, WalManager} from 'walctl'\nconsole.log(typeof WalManager.init, verify(${JSON.stringify(wal)}).records)\n`)
  const probe = await run(process.execPath, ['probe.mjs'], {cwd: consumer})
  t.is(probe.code, 0, probe.stderr)
  t.is(probe.stdout, 'function 3\n')
})

/** The shell lines of the sh block under "## Installing" in docs/API.md. */
function installSteps(): string[] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'API.md'), 'utf8')
  const section = doc.slice(doc.indexOf('\n## Installing\n'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  return block.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
}
