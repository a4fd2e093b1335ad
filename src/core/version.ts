// walctl's own version, for what it writes down about itself (an archive's
// manifest, a recover's report). Read from the package.json above this module,
// found by walking up, so that it holds in src/, dist/ and a bundle alike.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

let cached: string | undefined

export function walctlVersion(): string {
  if (cached !== undefined) return cached
  cached = 'walctl (unknown version)'
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'walctl' && pkg.version) {
        cached = `walctl ${pkg.version}`
        break
      }
    } catch {
      // Not here: one level up.
    }
    dir = path.dirname(dir)
  }
  return cached
}
