// Loads the bundled CLI (dist/bundle/main.cjs, made by scripts/build.mjs) with
// the code cache made beside it at build time, so that V8 does not compile the
// bundle again at each start. The module goes into require's cache, where oclif
// finds it as its command target, help class and hook. Without a usable cache
// (made by another node) V8 compiles it as usual; nothing is ever written here.
'use strict'
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const vm = require('node:vm')

const BUNDLE = path.join(__dirname, '..', 'dist', 'bundle', 'main.cjs')
const CACHE = `${BUNDLE}.cache`

/** The bundle's exports, and the compiled script (for the build to make the cache from). */
function loadBundle() {
  // import() does not work in a vm.Script: the bundle's (oclif loading an ESM
  // plugin's command) comes here, where it does (scripts/build.mjs).
  globalThis[Symbol.for('walctl.import')] ??= (specifier) => import(specifier)
  let cachedData
  try {
    cachedData = fs.readFileSync(CACHE)
  } catch {}
  const script = new vm.Script(Module.wrap(fs.readFileSync(BUNDLE, 'utf8')), {filename: BUNDLE, cachedData})
  const mod = new Module(BUNDLE, module)
  mod.filename = BUNDLE
  mod.paths = Module._nodeModulePaths(path.dirname(BUNDLE))
  const require = Module.createRequire(BUNDLE)
  Module._cache[BUNDLE] = mod
  try {
    script.runInThisContext().call(mod.exports, mod.exports, require, mod, BUNDLE, path.dirname(BUNDLE))
  } catch (err) {
    delete Module._cache[BUNDLE]
    throw err
  }
  mod.loaded = true
  return {exports: mod.exports, script}
}

module.exports = {BUNDLE, CACHE, loadBundle}
