// The error messages Shardex itself prints about its WAL (src/wal.rs and
// src/memory.rs, as the reference notes record them), parsed back into what
// they name: a kind, the segment Shardex was opening, a byte offset or a
// header value. Shardex wraps them ("Write-ahead log error: Failed to recover
// latest segment 3: Index corruption detected: ..."), so every pattern is
// searched for anywhere in the text, not anchored.
import {FIELD} from '../format/format.js'

export type ShardexMessageKind =
  | 'corrupted-record'
  | 'record-checksum'
  | 'truncated-record-header'
  | 'truncated-record-data'
  | 'future-created'
  | 'future-modified'
  | 'created-after-modified'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-header-size'
  | 'bad-data-offset'
  | 'reserved-not-zero'
  | 'segment-full'
  | 'segment-size-mismatch'

export interface ShardexMessage {
  kind: ShardexMessageKind
  /** The segment named by "Failed to recover latest segment N", when the message carries it. */
  segment?: number
  /** The record offset the message names (a record header's offset, as walctl counts them). */
  offset?: number
  /** The header field the message is about, for header problems. */
  field?: keyof typeof FIELD
  /** Numbers the message quotes: timestamps in microseconds, sizes in bytes. */
  values: Record<string, number>
}

interface Pattern {
  kind: ShardexMessageKind
  re: RegExp
  read(m: RegExpExecArray): Pick<ShardexMessage, 'offset' | 'field' | 'values'>
}

const n = (s: string): number => Number(s)

// Each regex is anchored on fixed words and bounded digit runs: no nested quantifiers, so no backtracking blow-up
// on a long pasted message.
const PATTERNS: Pattern[] = [
  {kind: 'corrupted-record', re: /Corrupted record found at position (\d{1,15})/i, read: (m) => ({offset: n(m[1]), values: {}})},
  {kind: 'record-checksum', re: /Record checksum validation failed at position (\d{1,15})/i, read: (m) => ({offset: n(m[1]), values: {}})},
  {kind: 'truncated-record-header', re: /Truncated record header at position (\d{1,15})/i, read: (m) => ({offset: n(m[1]), values: {}})},
  // Shardex names the data's offset here, 8 bytes past the record's header.
  {kind: 'truncated-record-data', re: /Truncated record data at position (\d{1,15}), expected (\d{1,15}) bytes/i, read: (m) => ({offset: Math.max(0, n(m[1]) - 8), values: {dataOffset: n(m[1]), length: n(m[2])}})},
  {kind: 'created-after-modified', re: /Creation timestamp (\d{1,20}) is after modification timestamp (\d{1,20})/i, read: (m) => ({field: 'modifiedAt', values: {createdAt: n(m[1]), modifiedAt: n(m[2])}})},
  {kind: 'future-created', re: /Creation timestamp (\d{1,20}) is in the future/i, read: (m) => ({field: 'createdAt', values: {createdAt: n(m[1])}})},
  {kind: 'future-modified', re: /Modification timestamp (\d{1,20}) is in the future/i, read: (m) => ({field: 'modifiedAt', values: {modifiedAt: n(m[1])}})},
  {kind: 'bad-magic', re: /Magic bytes mismatch/i, read: () => ({field: 'magic', values: {}})},
  {kind: 'bad-version', re: /Version (\d{1,10}) is too (?:old|new)/i, read: (m) => ({field: 'version', values: {version: n(m[1])}})},
  {kind: 'bad-header-size', re: /Invalid header size: expected \d{1,10}, found (\d{1,10})/i, read: (m) => ({field: 'headerSize', values: {headerSize: n(m[1])}})},
  {kind: 'bad-data-offset', re: /Invalid data offset: (\d{1,20}) is less than header size/i, read: (m) => ({field: 'dataOffset', values: {dataOffset: n(m[1])}})},
  {kind: 'reserved-not-zero', re: /Reserved bytes are not zero/i, read: () => ({field: 'reserved', values: {}})},
  {
    kind: 'segment-full',
    re: /Segment full: cannot append record of (\d{1,15}) bytes \(header \d{1,3} \+ data (\d{1,15})\), only (\d{1,15}) bytes remaining/i,
    read: (m) => ({values: {recordBytes: n(m[1]), dataBytes: n(m[2]), remaining: n(m[3])}}),
  },
  {kind: 'segment-size-mismatch', re: /Segment size mismatch: found (\d{1,15}) bytes, expected (\d{1,15}) bytes/i, read: (m) => ({values: {found: n(m[1]), expected: n(m[2])}})},
]

const LATEST_SEGMENT = /Failed to recover latest segment (\d{1,10})/i

/** The messages walctl knows, for the refusal of one it does not. */
export const KNOWN_MESSAGES = [
  'Corrupted record found at position N during recovery',
  'Failed to recover latest segment N: ...',
  'Creation timestamp T is in the future',
  'Modification timestamp T is in the future',
  'Creation timestamp T is after modification timestamp T',
  'Magic bytes mismatch: ...',
  'Version N is too old / too new',
  'Invalid header size: expected 80, found N',
  'Invalid data offset: N is less than header size 80',
  'Reserved bytes are not zero',
  'Segment full: cannot append record of N bytes ...',
  'Segment size mismatch: found N bytes, expected M bytes',
  'Record checksum validation failed at position N',
  'Truncated record header / data at position N',
]

/** What a Shardex error message names, or undefined when it is none walctl knows. */
export function parseShardexMessage(text: string): ShardexMessage | undefined {
  // A pasted log line can be long; the patterns need only its first few KiB.
  const message = text.slice(0, 8192)
  for (const p of PATTERNS) {
    const m = p.re.exec(message)
    if (!m) continue
    const latest = LATEST_SEGMENT.exec(message)
    return {kind: p.kind, ...(latest ? {segment: Number(latest[1])} : {}), ...p.read(m)}
  }
  return undefined
}
