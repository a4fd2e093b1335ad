// Segment file names and record positions: parsed and formatted only here.

const SEGMENT_NAME = /^wal_(\d{6,10})\.log$/
export const MAX_SEGMENT_ID = 0xffff_ffff

/** `wal_{id:06}.log`, as Shardex names its segments. */
export function segmentFileName(id: number): string {
  return `wal_${String(id).padStart(6, '0')}.log`
}

/** The segment id a file name stands for, or undefined when it is not a canonical segment name. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name)
  if (!m) return undefined
  const id = Number(m[1])
  if (id < 1 || id > MAX_SEGMENT_ID) return undefined
  // wal_0000001.log is not a name Shardex would write for id 1: it would not find it.
  return segmentFileName(id) === name ? id : undefined
}

/**
 * Orders file names by their UTF-16 code units: the same order on every host
 * and locale, and without the first localeCompare's cost (loading ICU's
 * collation takes some 8 ms, a fifth of a command's start-up).
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A record's place in the WAL: segment id and the byte offset of its record header. */
export interface Position {
  segment: number
  offset: number
}

export function formatPosition(p: Position): string {
  return `${p.segment}:${p.offset}`
}

/** Parses `SEGMENT:OFFSET` (decimal); undefined when malformed. */
export function parsePosition(text: string): Position | undefined {
  const m = /^(\d{1,10}):(\d{1,15})$/.exec(text.trim())
  if (!m) return undefined
  const segment = Number(m[1])
  const offset = Number(m[2])
  if (segment < 1 || segment > MAX_SEGMENT_ID) return undefined
  return {segment, offset}
}

export function comparePositions(a: Position, b: Position): number {
  return a.segment - b.segment || a.offset - b.offset
}
