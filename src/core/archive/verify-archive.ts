// walctl verify TARGET: an archive checked without restoring it. The manifest
// must be consistent and every object it lists present at its size; --deep
// downloads each object, compares its SHA-256 and CRC-32 with the manifest and
// verifies every record in it (through a temporary file, so memory stays
// bounded by the scanner's, not the object's size).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {ExitCode, WalError} from '../errors.js'
import {writeAt} from '../fs/files.js'
import {parseSegmentFileName} from '../format/names.js'
import {scanWal, Severity, Verdict, worst} from '../read/scan.js'
import {VERDICT_EXIT} from '../read/verify.js'
import {Digester} from './digest.js'
import {Manifest, manifestProblems} from './manifest.js'
import {ArchiveStore, MANIFEST_NAME} from './store.js'

export type ArchiveProblemKind = 'manifest' | 'missing-object' | 'size-mismatch' | 'checksum-mismatch' | 'record-damage' | 'stray-object'

export interface ArchiveProblem {
  object: string
  kind: ArchiveProblemKind
  severity: Severity
  message: string
}

export interface ArchiveVerifyReport {
  target: string
  deep: boolean
  verdict: Verdict
  exitCode: number
  segments: number
  first: number | null
  last: number | null
  bytes: number
  /** Valid records found (with --deep). */
  records: number | null
  problems: ArchiveProblem[]
}

export async function verifyArchive(store: ArchiveStore, options: {deep?: boolean; onObject?: (name: string, size: number) => void} = {}): Promise<ArchiveVerifyReport> {
  const text = await store.readManifest()
  if (text === undefined) throw new WalError(ExitCode.NO_INPUT, 'no manifest.json here: not a walctl archive (or nothing archived yet)', {file: store.url})
  const problems: ArchiveProblem[] = []
  let verdict: Verdict = 'clean'
  const add = (p: ArchiveProblem): void => {
    problems.push(p)
    verdict = worst(verdict, p.severity)
  }
  let manifest: Manifest
  try {
    manifest = JSON.parse(text) as Manifest
  } catch (error) {
    add({object: MANIFEST_NAME, kind: 'manifest', severity: 'damaged', message: `not valid JSON: ${(error as Error).message}`})
    return report(store, options.deep ?? false, verdict, [], problems, null)
  }
  for (const m of manifestProblems(manifest)) add({object: MANIFEST_NAME, kind: 'manifest', severity: 'damaged', message: m})
  const entries = Array.isArray(manifest.segments) ? manifest.segments.filter((s) => typeof s?.name === 'string') : []
  const objects = new Map((await store.list()).map((o) => [o.name, o.size]))
  let records: number | null = options.deep ? 0 : null
  for (const s of entries) {
    const size = objects.get(s.name)
    objects.delete(s.name)
    if (size === undefined) {
      add({object: s.name, kind: 'missing-object', severity: 'damaged', message: 'listed in the manifest but not in the archive'})
      continue
    }
    if (size !== s.size) {
      add({object: s.name, kind: 'size-mismatch', severity: 'damaged', message: `${size} bytes, the manifest lists ${s.size}`})
      continue
    }
    if (!options.deep) continue
    options.onObject?.(s.name, s.size)
    const checked = await deepCheck(store, s.name, s.sha256, s.crc32)
    if (checked.problem) add(checked.problem)
    records! += checked.records
    for (const p of checked.damage) add(p)
  }
  const c = manifest.current
  if (c && typeof c.object === 'string') {
    const size = objects.get(c.object)
    objects.delete(c.object)
    if (size === undefined) add({object: c.object, kind: 'missing-object', severity: 'damaged', message: 'the current segment\'s prefix is listed in the manifest but not in the archive'})
    else if (size !== c.bytes) add({object: c.object, kind: 'size-mismatch', severity: 'damaged', message: `${size} bytes, the manifest lists ${c.bytes}`})
    else if (options.deep) {
      const checked = await deepCheck(store, c.object, c.sha256, c.crc32)
      if (checked.problem) add(checked.problem)
      records! += checked.records
    }
  }
  for (const [name] of objects) {
    if (name === MANIFEST_NAME || parseSegmentFileName(name.replace(/\.current-\d+$/, '')) === undefined) continue
    add({object: name, kind: 'stray-object', severity: 'warning', message: 'a segment object the manifest does not list (left by an interrupted archive; the next archive run replaces it)'})
  }
  return report(store, options.deep ?? false, verdict, entries, problems, records)
}

function report(store: ArchiveStore, deep: boolean, verdict: Verdict, entries: Manifest['segments'], problems: ArchiveProblem[], records: number | null): ArchiveVerifyReport {
  return {
    target: store.url,
    deep,
    verdict,
    exitCode: VERDICT_EXIT[verdict],
    segments: entries.length,
    first: entries[0]?.id ?? null,
    last: entries.at(-1)?.id ?? null,
    bytes: entries.reduce((n, s) => n + (Number.isSafeInteger(s.size) ? s.size : 0), 0),
    records,
    problems,
  }
}

async function deepCheck(store: ArchiveStore, name: string, sha256: string, crc: string): Promise<{problem?: ArchiveProblem; records: number; damage: ArchiveProblem[]}> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'walctl-verify-'))
  const file = path.join(tmp, name)
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600)
    const d = new Digester()
    try {
      let pos = 0
      for await (const chunk of store.read(name)) {
        d.update(chunk)
        writeAt(fd, chunk, pos)
        pos += chunk.length
      }
    } finally {
      fs.closeSync(fd)
    }
    const got = d.digest()
    if (got.sha256 !== sha256 || got.crc32 !== crc) {
      return {problem: {object: name, kind: 'checksum-mismatch', severity: 'damaged', message: `sha256 ${got.sha256} and crc32 ${got.crc32}, the manifest lists ${sha256} and ${crc}`}, records: 0, damage: []}
    }
    const scan = scanWal(file, {settleTries: 0})
    const damage = scan.problems
      .filter((p) => p.severity !== 'warning')
      .map((p): ArchiveProblem => ({object: name, kind: 'record-damage', severity: p.severity, message: `${p.kind}${p.offset === null ? '' : ` at offset ${p.offset}`}: ${p.message} (archived as it was in the WAL)`}))
    return {records: scan.records, damage}
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
}
