// mmap-io is CommonJS whose typings declare a default export; at run time the
// module object itself is the API. Resolve it once here.
//
// Its entry point finds the compiled binding through @mapbox/node-pre-gyp,
// which loads some sixty modules (npmlog, gauge, readable-stream...): about
// 60 ms of the start-up of every command that maps a segment, against 2 ms
// for the binding itself (docs/PERFORMANCE.md). So the binding is loaded here
// from the place node-pre-gyp would find it, with the same wrapper around
// sync as mmap-io's entry point, and through the package whenever that fails.
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'
import type mmapModule from 'mmap-io'

type MmapIo = typeof mmapModule.default
type RawSync = (buf: Buffer, offset: number, length: number, blocking: boolean, invalidate: boolean) => void
type Binding = MmapIo & {sync_lib_private__?: RawSync}

const require = createRequire(import.meta.url)

function loadBindingDirectly(): MmapIo | undefined {
  try {
    const pjsonPath = require.resolve('mmap-io/package.json')
    const binary = (JSON.parse(fs.readFileSync(pjsonPath, 'utf8')) as {binary?: {module_name?: string; module_path?: string}}).binary
    if (!binary?.module_name || !binary.module_path) return undefined
    const dir = binary.module_path
      .replace('{configuration}', 'Release')
      .replace('{node_abi}', `node-v${process.versions.modules}`)
      .replace('{platform}', process.platform)
      .replace('{arch}', process.arch)
    if (dir.includes('{')) return undefined
    const file = path.join(path.dirname(pjsonPath), dir, `${binary.module_name}.node`)
    if (!fs.existsSync(file)) return undefined
    const binding = require(file) as Binding
    const raw = binding.sync_lib_private__
    // mmap-io's own entry point may have wrapped this (shared) binding already: then use it as it is.
    if (raw) {
      binding.sync = ((buf: Buffer, a?: number | boolean, b?: number | boolean, c?: boolean, d?: boolean): void => {
        if (typeof a === 'boolean') raw(buf, 0, buf.length, a, (b as boolean | undefined) || false)
        else raw(buf, a || 0, (b as number | undefined) || buf.length, c || false, d || false)
      }) as MmapIo['sync']
    }
    return typeof binding.map === 'function' && typeof binding.sync === 'function' ? binding : undefined
  } catch {
    return undefined
  }
}

function loadPackage(): MmapIo {
  const loaded = require('mmap-io') as MmapIo & {default?: MmapIo}
  return loaded.default ?? loaded
}

export const mmap: MmapIo = loadBindingDirectly() ?? loadPackage()
