// The archive's manifest: one JSON document beside the segments that lists
// every segment fully stored, with what a reader needs without downloading it.
// It never lists an object that is not stored whole and checked: archive adds
// an entry only after the object's bytes were read back and matched.
import {ExitCode, WalError} from '../errors.js'
import {formatPosition, Position} from '../format/names.js'

export const MANIFEST_FORMAT = 'walctl-archive/1'

export interface ManifestSegment {
  id: number
  /** The object's name, `wal_NNNNNN.log`. */
  name: string
  /** Bytes of the object: the segment file's size. */
  size: number
  sha256: string
  /** CRC-32/IEEE of the whole object, as 8 hex digits. */
  crc32: string
  /** The segment header's timestamps, ISO 8601 (microseconds since the epoch beside them). */
  createdAt: string
  createdAtUs: string
  modifiedAt: string
  modifiedAtUs: string
  records: number
  /** Positions (SEGMENT:OFFSET) of its first and last valid record, null when it holds none. */
  firstRecord: string | null
  lastRecord: string | null
  /** End of its last valid record before any damage. */
  cleanEnd: number
  verdict: 'clean' | 'repairable' | 'damaged'
  /** The segment file's mode, owner and group when it was archived (restore puts them back). */
  mode: number
  uid: number
  gid: number
  archivedAt: string
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT
  /** The WAL directory it was archived from (for people: restore can go anywhere). */
  source: string
  host: string
  segmentSize: number
  /** Which walctl wrote this version of the manifest. */
  writtenBy: string
  updatedAt: string
  /** In id order, contiguous. */
  segments: ManifestSegment[]
  /**
   * With --include-current: the newest segment's prefix up to the end of its
   * last valid record when it was shipped, stored as `object`; restore pads it
   * with zeros to `size`. Null or absent when not shipped (or sealed since).
   */
  current?: CurrentSegment | null
}

export interface CurrentSegment extends ManifestSegment {
  /** The object holding the prefix: `wal_NNNNNN.log.current-BYTES`. */
  object: string
  /** Bytes stored: the prefix's length. `size` is the segment file's. */
  bytes: number
}

export function emptyManifest(source: string, host: string, segmentSize: number, writtenBy: string): Manifest {
  return {format: MANIFEST_FORMAT, source, host, segmentSize, writtenBy, updatedAt: new Date().toISOString(), segments: []}
}

/** Parses and checks a manifest; a broken one is exit 2 naming what is wrong. */
export function parseManifest(text: string, where: string): Manifest {
  let m: Manifest
  try {
    m = JSON.parse(text) as Manifest
  } catch (error) {
    throw new WalError(ExitCode.DAMAGED, `the archive's manifest is not valid JSON (${(error as Error).message})`, {file: where})
  }
  const problems = manifestProblems(m)
  if (problems.length > 0) throw new WalError(ExitCode.DAMAGED, `the archive's manifest is inconsistent: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {file: where})
  return m
}

/** What is wrong with a manifest's structure: unknown format, ids out of order or with gaps, entries without their fields. */
export function manifestProblems(m: Manifest): string[] {
  const out: string[] = []
  if (typeof m !== 'object' || m === null || m.format !== MANIFEST_FORMAT) return [`format is not ${MANIFEST_FORMAT}`]
  if (!Array.isArray(m.segments)) return ['no segment list']
  if (!Number.isSafeInteger(m.segmentSize) || m.segmentSize <= 0) out.push('no segment size')
  for (const [i, s] of m.segments.entries()) {
    if (!Number.isSafeInteger(s?.id) || typeof s.name !== 'string' || !Number.isSafeInteger(s.size) || !/^[0-9a-f]{64}$/.test(s.sha256 ?? '') || !/^[0-9a-f]{8}$/.test(s.crc32 ?? '')) {
      out.push(`entry ${i} lacks an id, name, size or checksum`)
      continue
    }
    const prev = m.segments[i - 1]
    if (prev && Number.isSafeInteger(prev.id) && s.id !== prev.id + 1) {
      out.push(s.id <= prev.id ? `segment ${s.id} is listed out of order or twice` : `segments ${prev.id + 1}..${s.id - 1} are missing between ${prev.name} and ${s.name}`)
    }
  }
  const c = m.current
  if (c) {
    const last = m.segments.at(-1)
    if (!Number.isSafeInteger(c.id) || typeof c.object !== 'string' || !Number.isSafeInteger(c.bytes) || !/^[0-9a-f]{64}$/.test(c.sha256 ?? '')) out.push('the current segment lacks an id, object, length or checksum')
    else if (last && c.id !== last.id + 1) out.push(`the current segment ${c.id} does not follow the last archived one, ${last.id}`)
  }
  return out
}

/**
 * The object a current segment's prefix is stored under: named by its length,
 * so that a new prefix never replaces the one the manifest lists until the
 * manifest itself switches to it.
 */
export function currentObjectName(name: string, bytes: number): string {
  return `${name}.current-${bytes}`
}

export function positionOrNull(p: Position | undefined): string | null {
  return p ? formatPosition(p) : null
}
