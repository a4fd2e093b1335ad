#!/usr/bin/env node
// `walctl --version` is answered here without loading oclif; it prints exactly
// what oclif prints. Everything else runs the bundled CLI (oclif included, see
// scripts/build.mjs and docs/PERFORMANCE.md).
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {arch, release} from 'node:os'

function versionLine(argv) {
  // oclif reports the platform as 'wsl' under WSL: leave that case to it.
  if (argv.length === 0 || !argv[0].startsWith('-') || release().toLowerCase().includes('microsoft')) return undefined
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const versionFlags = ['--version', ...(pjson.oclif?.additionalVersionFlags ?? [])]
  if (!versionFlags.includes(argv[0])) return undefined
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version} ${process.platform}-${cpu} node-${process.version}\n`
}

const version = versionLine(process.argv.slice(2))
if (version) {
  process.stdout.write(version)
} else {
  const {loadBundle} = createRequire(import.meta.url)('./bundle.cjs')
  await loadBundle().exports.run(import.meta.url)
}
