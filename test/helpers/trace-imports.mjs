// Preloaded with `node --import` by the start-up tests: records every module
// URL the process resolves (ESM imports, static and dynamic) into the file
// named by WALCTL_TRACE_IMPORTS, so a test can tell what a command loaded.
import {register} from 'node:module'

if (process.env.WALCTL_TRACE_IMPORTS) {
  register('./trace-imports-hooks.mjs', import.meta.url, {data: {file: process.env.WALCTL_TRACE_IMPORTS}})
}
