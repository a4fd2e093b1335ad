#!/usr/bin/env node
import {execute, settings} from '@oclif/core'

// This entry point runs the compiled dist/ only. Under NODE_ENV=test or
// development oclif would otherwise map dist/ back to src/*.ts, fail to load
// TypeScript without a loader, and break the configured help class.
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
