// What bin/run.js runs: the whole CLI (commands, help class, hook, and oclif
// itself) bundled by scripts/build.mjs into dist/bundle/main.cjs. package.json
// names this module as oclif's explicit command target, help class and hook,
// so oclif scans no directory and imports no other file of walctl.
import {readFileSync} from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execute, settings} from '@oclif/core'
import type {Command} from '@oclif/core'
import commandNotFound from '../hooks/command-not-found.js'

export {default as Help} from './help.js'
export {commandNotFound}

// The bundle is CommonJS: a require() of a module in it runs that module (and
// what it imports) only then. oclif lists commands from oclif.manifest.json
// and touches only the class of the command it runs, so a command's modules
// are evaluated only when it runs (or shows its own help).
declare const require: (id: string) => {default: Command.Class}
const loaders: Record<string, () => Command.Class> = {
  append: () => require('../commands/append.js').default,
  archive: () => require('../commands/archive.js').default,
  completion: () => require('../commands/completion.js').default,
  dump: () => require('../commands/dump.js').default,
  explain: () => require('../commands/explain.js').default,
  gc: () => require('../commands/gc.js').default,
  help: () => require('../commands/help.js').default,
  init: () => require('../commands/init.js').default,
  recover: () => require('../commands/recover.js').default,
  restore: () => require('../commands/restore.js').default,
  rotate: () => require('../commands/rotate.js').default,
  verify: () => require('../commands/verify.js').default,
}

/**
 * A stand-in for a command class that loads the class at its first use and
 * acts as it from then on (oclif sets its id, reads its flags, runs it; the
 * manifest's build copies its properties). Its target is a strict function, so
 * that its only fixed property is `prototype`, reported with the class's value.
 */
function lazyCommand(load: () => Command.Class): Command.Class {
  let loaded: Command.Class | undefined
  const real = (): Command.Class => (loaded ??= load())
  const target = function () {
    'use strict'
  } as unknown as Command.Class
  const proxy: Command.Class = new Proxy(target, {
    get: (_, key) => Reflect.get(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key)
      if (key === 'prototype') return {...Reflect.getOwnPropertyDescriptor(target, key), value: descriptor?.value}
      // A proxy may report a property as fixed only when its target has it so.
      return descriptor && {...descriptor, configurable: true}
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    construct: (_, args, newTarget) => Reflect.construct(real(), args, newTarget === proxy ? real() : newTarget),
  })
  return proxy
}

export const COMMANDS = Object.fromEntries(Object.entries(loaders).map(([id, load]) => [id, lazyCommand(load)]))

/** Loads every command: the build does it to compile them all into the code cache. */
export function loadAllCommands(): void {
  for (const load of Object.values(loaders)) load()
}

/** Runs the command line; `bin` is bin/run.js of the installed package. */
export async function run(bin: string, args?: string[]): Promise<void> {
  // Under NODE_ENV=test or development oclif would map dist/ back to src/*.ts
  // and fail to load TypeScript without a loader: this entry runs the build only.
  settings.enableAutoTranspile = false
  const root = path.dirname(path.dirname(fileURLToPath(bin)))
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  // walctl has no plugin command: nothing is loaded from the user's data directory.
  await execute({args, loadOptions: {root, pjson, userPlugins: false, devPlugins: false}})
}
