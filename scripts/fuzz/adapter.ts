// The one place the fuzz campaign touches walctl's library API. If a signature
// changes, adapt it here; the oracle uses only these shapes.
import * as path from 'node:path'
import {dumpWal, resolveDumpTarget} from '../../src/core/dump/walk.js'
import {WalError} from '../../src/core/errors.js'
import {recoverWal, RecoverMode} from '../../src/core/repair/recover.js'
import {WalManager} from '../../src/core/write/manager.js'
import {segmentFileName} from '../../src/core/format/names.js'
import {verifyWal} from '../../src/core/read/verify.js'

export type {RecoverMode}
export const MODES: readonly RecoverMode[] = ['tolerate-tail', 'salvage', 'point-in-time']

export interface SeenRecord {
  /** The segment's file name in the WAL directory. */
  file: string
  offset: number
  length: number
  crc: number
  resynced: boolean
  payload: Buffer
}

export interface Verified {
  verdict: string
  exitCode: number
  records: SeenRecord[]
}

/** verify's verdict and every record its scan lists. No writer runs: no settling re-reads. */
export function verify(dir: string): Verified {
  const records: SeenRecord[] = []
  let file = ''
  const report = verifyWal(dir, {
    settleTries: 0,
    onSegment: (f) => {
      file = f.name
    },
    onRecord: (_segment, payload, offset, length, crc, resynced) => {
      records.push({file, offset, length, crc: crc >>> 0, resynced, payload: Buffer.from(payload.bytes())})
    },
  })
  return {verdict: report.verdict, exitCode: report.exitCode, records}
}

export function dump(dir: string): SeenRecord[] {
  const records: SeenRecord[] = []
  dumpWal(resolveDumpTarget(dir), {}, {
    record: (r) => {
      records.push({file: path.basename(r.file), offset: r.offset, length: r.length, crc: r.crc32 >>> 0, resynced: r.resynced, payload: Buffer.from(r.data)})
    },
  })
  return records
}

export interface Recovered {
  exitCode: number
  changed: boolean
  refused: string | null
  /** Each quarantine copy (absolute) with the WAL file it was taken from (its name). */
  quarantined: Array<{file: string; copy: string}>
}

export function recover(dir: string, mode: RecoverMode): Recovered {
  const r = recoverWal(dir, {mode})
  const quarantined = r.actions.filter((a) => a.quarantined !== null).map((a) => ({file: path.basename(a.file), copy: path.resolve(r.dir, a.quarantined!)}))
  return {exitCode: r.exitCode, changed: r.changed, refused: r.refused, quarantined}
}

/** An error walctl means to raise (it carries a documented exit code); anything else is a bug. */
export function walErrorCode(error: unknown): number | undefined {
  return error instanceof WalError ? error.exitCode : undefined
}

/** Appends one record as `walctl append` does (open, append with rotation, sync, close). */
export function append(dir: string, payload: Buffer): {file: string; offset: number} {
  const manager = WalManager.open(dir)
  try {
    const at = manager.append(payload)
    manager.sync()
    return {file: segmentFileName(at.segment), offset: at.offset}
  } finally {
    manager.close()
  }
}
