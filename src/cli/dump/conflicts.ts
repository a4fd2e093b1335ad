// Flags of dump that would have no effect together: each pair is a usage
// error naming both, so that no flag is silently ignored.
import {DumpFormat} from './renderer.js'

export interface DumpFlagUse {
  /** The format in effect, and whether --format was given. */
  format: DumpFormat
  formatGiven: boolean
  json: boolean
  stats: boolean
  follow: boolean
  /** Flags given on the command line (not from their defaults). */
  given: ReadonlySet<string>
  decode?: string
}

/** The first conflict, as one line, or undefined. */
export function dumpFlagConflict(u: DumpFlagUse): string | undefined {
  const has = (f: string): boolean => u.given.has(f)
  const fmt = `--format ${u.format}`
  // --format jsonl is JSON too: there --json wins and writes one document (docs/DUMP.md).
  if (u.json && u.formatGiven && u.format !== 'json' && u.format !== 'jsonl') return `--json writes one JSON document: it cannot be combined with ${fmt} (drop one)`
  if (u.follow && u.format === 'json') return '--follow streams without end: use --format jsonl, table, hex or raw, not json'
  if (u.follow && u.stats) return '--follow and --stats cannot be combined'
  if (u.follow && has('until')) return '--follow never ends: it cannot be combined with --until'
  if (has('interval') && !u.follow) return '--interval sets how often --follow polls: it needs --follow'
  if (u.stats && (u.format === 'hex' || u.format === 'raw')) return `--stats prints a table or JSON: it cannot be combined with ${fmt}`
  if (has('context') && (u.stats || u.format !== 'hex')) return `--context adds bytes around damage in --format hex: it has no effect with ${u.stats ? '--stats' : fmt}`
  if (has('encoding') && u.stats) return '--encoding sets how payloads are written: it has no effect with --stats'
  if (has('encoding') && (u.format === 'hex' || u.format === 'raw')) return `--encoding applies to --format jsonl, json and table: it has no effect with ${fmt}`
  if (u.decode && u.format === 'raw') return '--decode shardex has no effect with --format raw (it writes the payload bytes as they are)'
  if (has('op') && u.decode !== 'shardex') return '--op selects records by their Shardex operations: add --decode shardex'
  if (has('op') && has('damaged-only')) return '--op selects valid records by their operations: it cannot be combined with --damaged-only'
  return undefined
}
