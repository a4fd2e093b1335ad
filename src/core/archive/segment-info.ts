// What the manifest says about one segment file, from one read-only scan of
// it: header timestamps, records, first and last record positions, verdict.
import * as fs from 'node:fs'
import {Position} from '../format/names.js'
import {scanWal} from '../read/scan.js'
import {positionOrNull} from './manifest.js'

export interface SegmentInfo {
  createdAtUs: bigint
  modifiedAtUs: bigint
  records: number
  firstRecord: string | null
  lastRecord: string | null
  cleanEnd: number
  verdict: 'clean' | 'repairable' | 'damaged'
}

export function segmentInfo(file: string, id: number): SegmentInfo {
  let first: Position | undefined
  let last: Position | undefined
  const scan = scanWal(file, {
    settleTries: 0,
    onRecord: (_segment, _buf, offset, _length, _crc, resynced) => {
      if (resynced) return
      first ??= {segment: id, offset}
      last = {segment: id, offset}
    },
  })
  const s = scan.segments[0]
  return {
    createdAtUs: s?.header?.createdAtUs ?? 0n,
    modifiedAtUs: s?.header?.modifiedAtUs ?? 0n,
    records: s?.records ?? 0,
    firstRecord: positionOrNull(first),
    lastRecord: positionOrNull(last),
    cleanEnd: s?.cleanEnd ?? 0,
    verdict: scan.verdict,
  }
}

export function statMode(st: fs.Stats): {mode: number; uid: number; gid: number} {
  return {mode: st.mode & 0o7777, uid: st.uid, gid: st.gid}
}
