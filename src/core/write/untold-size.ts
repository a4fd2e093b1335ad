// A WAL none of whose segments can hold a record (every one shorter than a
// header and one 1-byte record) does not tell its segment size. A scan finds
// nothing wrong in a header-only segment by itself; verify reports it, so
// that verify, append and recover tell the same story: too small, and
// 'recover --segment-size SIZE' is the repair.
import {FIRST_RECORD_OFFSET, MIN_SEGMENT_SIZE} from '../format/format.js'
import {Problem, WalScanResult} from '../read/scan.js'

export function untoldSizeProblems(scan: WalScanResult): Problem[] {
  if (scan.segmentSize >= MIN_SEGMENT_SIZE) return []
  // Shorter than the header: the scan already reports it as a broken header.
  return scan.segments.filter((s) => s.size >= FIRST_RECORD_OFFSET && s.size < MIN_SEGMENT_SIZE).map((s) => ({
    segment: s.id,
    file: s.file,
    offset: s.size,
    kind: 'size-mismatch',
    severity: 'damaged',
    message: `file is ${s.size} bytes, too small to hold any record (a segment needs at least ${MIN_SEGMENT_SIZE}), and no segment is long enough to tell the WAL's segment size; repair: walctl recover --segment-size SIZE`,
  }))
}
