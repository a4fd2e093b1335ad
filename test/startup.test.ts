// bin/run.js answers --version itself, without loading oclif: its line must
// be exactly the one oclif prints, and everything else must still reach oclif.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'
import test from 'ava'
import {BIN, ROOT, walctl} from './helpers/cli.js'

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
      const {mmap} = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'src', 'core', 'mmap.ts')).href)})
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
