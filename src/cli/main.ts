// What bin/run.js runs: the whole CLI (commands, help class, hook, and oclif
// itself) bundled by scripts/build.mjs into dist/bundle/main.js. package.json
// names this module as oclif's explicit command target, help class and hook,
// so oclif reads no command directory and imports no other file of walctl.
import {execute, settings} from '@oclif/core'
import Append from '../commands/append.js'
import Dump from '../commands/dump.js'
import Gc from '../commands/gc.js'
import Init from '../commands/init.js'
import Recover from '../commands/recover.js'
import Rotate from '../commands/rotate.js'
import Verify from '../commands/verify.js'
import commandNotFound from '../hooks/command-not-found.js'

export {default as Help} from './help.js'
export {commandNotFound}

export const COMMANDS = {append: Append, dump: Dump, gc: Gc, init: Init, recover: Recover, rotate: Rotate, verify: Verify}

/** Runs the command line; `dir` is any file of the installed package (bin/run.js). */
export async function run(dir: string): Promise<void> {
  // Under NODE_ENV=test or development oclif would map dist/ back to src/*.ts
  // and fail to load TypeScript without a loader: this entry runs the build only.
  settings.enableAutoTranspile = false
  await execute({dir})
}
