// Checks a segment's header the way Shardex's open does, and more: every
// problem found, not only the first, each with the offset of its field.
import {
  decodeHeader, FIELD, FIRST_RECORD_OFFSET, HEADER_SIZE, MAGIC, MIN_DATA_OFFSET, SegmentHeader, VERSION,
} from './format.js'

export type HeaderProblemKind =
  | 'short-file'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-header-size'
  | 'bad-data-offset'
  | 'reserved-not-zero'
  | 'size-mismatch'
  | 'future-timestamp'
  | 'clock-skew'
  | 'created-after-modified'

/** What a header problem costs: `warning` nothing; `repairable` no complete record; `damaged` the segment. */
export type HeaderSeverity = 'warning' | 'repairable' | 'damaged'

/** Header problems Shardex's open refuses and no rewrite of the fields fixes without a fresh header. */
const FATAL: ReadonlySet<string> = new Set<HeaderProblemKind>(['short-file', 'bad-magic', 'bad-version', 'bad-header-size', 'bad-data-offset', 'reserved-not-zero'])

/** The one place that decides which header problems are fatal (the segment cannot be opened as it is). */
export function isFatalHeaderProblem(kind: string): boolean {
  return FATAL.has(kind)
}

export interface SeverityContext {
  fileSize: number
  segmentSize: number
  /** The bytes past the WAL's segment size are all zero (a longer file only). */
  excessIsZero: boolean
}

/**
 * What a header problem costs. A size mismatch is repairable when zeros can
 * be put back (a shorter file) or cut off (a longer file whose excess is all
 * zeros); a longer file with data past the segment size is damaged.
 */
export function headerProblemSeverity(kind: HeaderProblemKind, context?: SeverityContext): HeaderSeverity {
  if (FATAL.has(kind)) return 'damaged'
  if (kind === 'clock-skew') return 'warning'
  if (kind === 'size-mismatch' && context && context.fileSize > context.segmentSize && !context.excessIsZero) return 'damaged'
  return 'repairable'
}

export interface HeaderProblem {
  kind: HeaderProblemKind
  offset: number
  message: string
}

export interface HeaderCheckOptions {
  /** The WAL's segment size; a file of another size is reported. */
  segmentSize?: number
  /** This reader's clock, microseconds since the epoch. */
  nowUs?: bigint
  /**
   * A timestamp ahead of the clock by at most this much is only a warning
   * (`clock-skew`): the reader's clock may be behind the writer's.
   */
  clockSkewUs?: bigint
}

export const DEFAULT_CLOCK_SKEW_US = 24n * 3600n * 1_000_000n

export interface HeaderCheck {
  header?: SegmentHeader
  problems: HeaderProblem[]
}

/** `head` holds the first bytes of the file (89 or more when the file has them). */
export function checkHeader(head: Buffer, fileSize: number, options: HeaderCheckOptions = {}): HeaderCheck {
  if (fileSize < FIRST_RECORD_OFFSET) {
    return {problems: [{kind: 'short-file', offset: fileSize, message: `file is ${fileSize} bytes, shorter than the ${FIRST_RECORD_OFFSET}-byte segment header`}]}
  }
  const header = decodeHeader(head)
  if (!header.magic.equals(MAGIC)) {
    // Every other field of a file that is not a segment is noise: one problem says it all.
    return {header, problems: [{kind: 'bad-magic', offset: FIELD.magic.offset, message: `magic is ${describeMagic(header.magic)}, expected "WLOG"`}]}
  }
  const problems: HeaderProblem[] = []
  if (header.version !== VERSION) {
    problems.push({kind: 'bad-version', offset: FIELD.version.offset, message: `version is ${header.version}, expected ${VERSION}`})
  }
  if (header.headerSize !== HEADER_SIZE) {
    problems.push({kind: 'bad-header-size', offset: FIELD.headerSize.offset, message: `header_size is ${header.headerSize}, expected ${HEADER_SIZE}`})
  }
  if (header.dataOffset < BigInt(MIN_DATA_OFFSET)) {
    problems.push({kind: 'bad-data-offset', offset: FIELD.dataOffset.offset, message: `data_offset is ${header.dataOffset}, must be at least ${MIN_DATA_OFFSET}`})
  }
  const reservedAt = header.reserved.findIndex((b) => b !== 0)
  if (reservedAt >= 0) {
    problems.push({kind: 'reserved-not-zero', offset: FIELD.reserved.offset + reservedAt, message: `reserved header bytes ${FIELD.reserved.offset}..${FIELD.reserved.offset + FIELD.reserved.size} are not all zero`})
  }
  if (options.segmentSize !== undefined && fileSize !== options.segmentSize) {
    problems.push({kind: 'size-mismatch', offset: Math.min(fileSize, options.segmentSize), message: `file is ${fileSize} bytes, the WAL's segments are ${options.segmentSize}`})
  }
  const now = options.nowUs
  if (now !== undefined) {
    const skew = options.clockSkewUs ?? DEFAULT_CLOCK_SKEW_US
    for (const [name, value, offset] of [
      ['created_at', header.createdAtUs, FIELD.createdAt.offset],
      ['modified_at', header.modifiedAtUs, FIELD.modifiedAt.offset],
    ] as const) {
      if (value > now) {
        const ahead = value - now
        problems.push({
          kind: ahead > skew ? 'future-timestamp' : 'clock-skew',
          offset,
          message: `${name} ${formatMicros(value)} is ${formatAhead(ahead)} ahead of this clock${ahead > skew ? '' : ' (within the allowed clock skew)'}`,
        })
      }
    }
  }
  if (header.createdAtUs > header.modifiedAtUs) {
    problems.push({kind: 'created-after-modified', offset: FIELD.modifiedAt.offset, message: `modified_at ${formatMicros(header.modifiedAtUs)} is before created_at ${formatMicros(header.createdAtUs)}`})
  }
  return {header, problems}
}

/** A problem as readers report it: a file with the wrong magic is named for what it is, not a WAL segment. */
export function headerProblemMessage(p: HeaderProblem): string {
  return p.kind === 'bad-magic' ? `not a WAL segment: ${p.message}` : p.message
}

function describeMagic(magic: Buffer): string {
  const printable = magic.every((b) => b >= 0x20 && b < 0x7f)
  return printable ? JSON.stringify(magic.toString('latin1')) : `0x${magic.toString('hex')}`
}

export function formatMicros(us: bigint): string {
  const ms = Number(us / 1000n)
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? `${us}us` : date.toISOString()
}

function formatAhead(us: bigint): string {
  const s = Number(us / 1_000_000n)
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172_800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86_400)}d`
}
