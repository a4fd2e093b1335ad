// Bundles the CLI (src/cli/main.ts and everything it imports, oclif included)
// into one CommonJS file, dist/bundle/main.cjs (and a parallel verify's worker
// into dist/bundle/verify-worker.cjs), and records V8's compiled code
// for it in dist/bundle/main.cjs.cache. A command then reads and compiles one
// file instead of resolving some 200 modules, and skips most of the compiling
// too: bin/run.js loads the bundle with that cache. tsc still builds the rest
// of dist/ (the library, dist/index.js and its .d.ts).
//
// For looking into the bundle: WALCTL_BUNDLE_READABLE=1 leaves it unminified,
// WALCTL_BUNDLE_META=FILE writes esbuild's account of what it holds to FILE.
import {build} from 'esbuild'
import {spawnSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist', 'bundle')
rmSync(outdir, {recursive: true, force: true})

// A module's import.meta.url (and .filename, .dirname) becomes that of its
// tsc-built twin in dist/, so that createRequire and any file named relative
// to a module (a worker's script) resolve as they do unbundled.
function twinUrl(file) {
  const twin = relative(join(root, 'src'), file).replace(/\.ts$/, '.js').split('\\').join('/')
  return `new URL(${JSON.stringify('../' + twin)}, __walctlBundleUrl).href`
}

// bin/bundle.cjs compiles the bundle with vm.Script, where import() does not
// work: an import() of a computed name (oclif loading an ESM plugin's command)
// goes through the import function bin/bundle.cjs hands over instead.
const IMPORT_KEY = "Symbol.for('walctl.import')"
const dynamicImport = /\bimport\((?![)'"`])/g
// A literal import() of a package left outside the bundle (the AWS SDK) goes the same way.
const externalImport = /\bawait import\((['"])(@aws-sdk\/[^'"]+)\1\)/g

const slimOclif = join(root, 'src', 'cli', 'oclif.ts')

// oclif requires these when it loads, but walctl's start-up never calls two of
// them (tinyglobby: the `pattern` command discovery; lilconfig: a plugin
// without oclif settings in its package.json) and calls minimatch only with
// plain package names: in the bundle each is evaluated at its first use, and
// minimatch not at all for a pattern without a wildcard.
const LAZY = {
  tinyglobby: '',
  lilconfig: '',
  minimatch: `
    const plain = (pattern) => !/[*?[\\]{}()!\\\\]|[+@]\\(/.test(pattern) && !pattern.startsWith('#')
    exports.minimatch = (name, pattern, options) => (options === undefined && plain(pattern) ? name === pattern : load().minimatch(name, pattern, options))`,
}
const oclifFile = /[\\/]@oclif[\\/]core[\\/]/

// oclif sorts a plugin's commands with localeCompare at every start, and the
// first localeCompare of a process loads ICU's collation: some 8 ms, a fifth
// of a command's start-up. Command ids are plain words, for which code-unit
// order is the same. Each patch must apply: a newer oclif fails the build here.
const PATCHES = [
  {
    file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
    from: '.sort((a, b) => a.id.localeCompare(b.id))',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  },
]
const patched = new Set()

const rewrite = {
  name: 'walctl-bundle-rewrite',
  setup(b) {
    b.onResolve({filter: new RegExp(`^(${Object.keys(LAZY).join('|')})$`)}, (args) =>
      oclifFile.test(args.importer) ? {path: args.path, namespace: 'walctl-lazy', pluginData: args.resolveDir} : undefined)
    b.onLoad({filter: /.*/, namespace: 'walctl-lazy'}, (args) => ({
      resolveDir: args.pluginData,
      loader: 'js',
      contents: `let real; const load = () => (real ??= require(${JSON.stringify(args.path)}));` +
        (LAZY[args.path] || 'module.exports = new Proxy({}, {get: (_, key) => load()[key]})'),
    }))
    b.onResolve({filter: /^@oclif\/core$/}, (args) => (args.importer.startsWith(join(root, 'src')) && args.importer !== slimOclif ? {path: slimOclif} : undefined))
    b.onLoad({filter: /\.[cm]?[jt]s$/}, (args) => {
      let source = readFileSync(args.path, 'utf8')
      const ours = args.path.startsWith(join(root, 'src'))
      const patch = PATCHES.find((p) => p.file.test(args.path))
      if (patch) {
        if (!source.includes(patch.from)) throw new Error(`${args.path} no longer has ${patch.from}: review scripts/build.mjs's patch`)
        source = source.replace(patch.from, patch.to)
        patched.add(patch)
      }
      if (!ours && !patch && !source.match(dynamicImport)) return undefined
      let contents = source.replace(dynamicImport, `globalThis[${IMPORT_KEY}](`).replace(externalImport, `await globalThis[${IMPORT_KEY}]($1$2$1)`)
      if (ours) {
        const url = twinUrl(args.path)
        const file = `require('node:url').fileURLToPath(${url})`
        contents = contents
          .replaceAll('import.meta.url', url)
          .replaceAll('import.meta.filename', file)
          .replaceAll('import.meta.dirname', `require('node:path').dirname(${file})`)
      }
      return {contents, loader: /\.ts$/.test(args.path) ? 'ts' : 'js', resolveDir: dirname(args.path)}
    })
  },
}

const result = await build({
  absWorkingDir: root,
  // The worker of a parallel verify too: as a graph of some 20 ES modules it
  // takes a worker longer to load than Node takes to start the thread.
  entryPoints: {main: 'src/cli/main.ts', 'verify-worker': 'src/core/read/verify-worker.ts'},
  outdir,
  outExtension: {'.js': '.cjs'},
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: !process.env.WALCTL_BUNDLE_READABLE,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Any other use of import.meta would be empty in CommonJS: refuse to build it.
  logOverride: {'empty-import-meta': 'error'},
  // mmap-io is a native addon that src/core/write/mmap.ts loads itself; oclif only
  // reaches for typescript when asked to transpile, which walctl never does.
  // The AWS SDK is loaded from node_modules by s3:// targets only: in the
  // bundle it would be parsed (and cached) at every start of every command.
  external: ['mmap-io', 'typescript', '@aws-sdk/*'],
  // The directive first: esbuild's own comes after the banner, where it would not count.
  banner: {js: `'use strict'; var __walctlBundleUrl = require('node:url').pathToFileURL(__filename).href; globalThis[${IMPORT_KEY}] ??= (s) => import(s);`},
  plugins: [rewrite],
  metafile: Boolean(process.env.WALCTL_BUNDLE_META),
})

const missed = PATCHES.filter((p) => !patched.has(p))
if (missed.length > 0) throw new Error(`the bundle has no ${missed.map((p) => p.file).join(', ')}: review scripts/build.mjs's patches`)

if (result.metafile) writeFileSync(process.env.WALCTL_BUNDLE_META, JSON.stringify(result.metafile))

// The code cache, made in a fresh process of the node that will run the bundle
// (V8 refuses a cache made by another version): the bundle loaded as bin/run.js
// loads it, every command loaded, and the root help shown once, so that the
// cache holds the functions of a start-up compiled, not only the top level.
// V8 runs what the cache holds: writable by its owner only, whatever the umask.
const made = spawnSync(process.execPath, ['-e', `
  const fs = require('node:fs')
  const {pathToFileURL} = require('node:url')
  const {CACHE, loadBundle} = require(${JSON.stringify(join(root, 'bin', 'bundle.cjs'))})
  const {exports, script} = loadBundle()
  exports.loadAllCommands()
  exports.run(pathToFileURL(${JSON.stringify(join(root, 'bin', 'run.js'))}).href, ['--help']).then(() => {
    if (script) fs.writeFileSync(CACHE, script.createCachedData(), {mode: 0o644})
  })
`], {stdio: ['ignore', 'ignore', 'inherit']})
if (made.status !== 0) throw new Error('could not make the code cache of dist/bundle/main.cjs')
