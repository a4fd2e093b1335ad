// The parts of @oclif/core that walctl uses, each from its own module. The
// bundle (scripts/build.mjs) reads every `import ... from '@oclif/core'` of
// walctl's sources from here, because @oclif/core's index also loads what
// walctl never needs at start-up (semver to check node's version against
// oclif's engines, the constraints, the logger's exports...).
export * as Args from '@oclif/core/args'
export {Command} from '@oclif/core/command'
export * as Errors from '@oclif/core/errors'
export {execute} from '@oclif/core/execute'
export * as Flags from '@oclif/core/flags'
export {CommandHelp, Help, loadHelpClass} from '@oclif/core/help'
export {settings} from '@oclif/core/settings'
export type {Hook, Interfaces} from '@oclif/core'
