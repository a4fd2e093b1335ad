#!/usr/bin/env node
// `walctl --version` is answered here without loading oclif (importing
// @oclif/core and loading its config costs over 150 ms of start-up, see
// docs/PERFORMANCE.md); it prints exactly what oclif prints. Everything else
// goes to oclif, which loads only the one command file named in the manifest.
import {readFileSync} from 'node:fs'
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
  const {execute, settings} = await import('@oclif/core')
  // This entry point runs the compiled dist/ only. Under NODE_ENV=test or
  // development oclif would otherwise map dist/ back to src/*.ts, fail to load
  // TypeScript without a loader, and break the configured help class.
  settings.enableAutoTranspile = false
  await execute({dir: import.meta.url})
}
