// The Shardex fixtures copied from ../shared, and their manifests.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {ROOT} from './cli.js'

export const FIXTURES = path.join(ROOT, 'test', 'fixtures')
export const FIXTURE_FAMILIES = ['shardex', 'shardex-garbage-padding'] as const
export const FIXTURE_SETS = ['empty', 'small', 'full', 'full-then-autorotate', 'forced-rotate', 'rotation', 'large', 'transactions'] as const
export type FixtureSet = (typeof FIXTURE_SETS)[number]

export interface ManifestRecord {
  index: number
  segment_id: number
  record_offset: number
  offset: number
  length: number
  crc32: string
  hex: string
  utf8?: string
  transaction?: Record<string, unknown>
}

export interface ManifestSegment {
  id: number
  file: string
  capacity: number
  file_size: number
  write_pointer: number
  is_full: boolean
  record_count: number
  header: Record<string, unknown>
}

export interface Manifest {
  set: string
  segment_size: number
  records: ManifestRecord[]
  segments: ManifestSegment[]
  events: Array<Record<string, unknown>>
}

export function fixtureDir(set: FixtureSet, family: (typeof FIXTURE_FAMILIES)[number] = 'shardex'): string {
  return path.join(FIXTURES, family, set)
}

export function loadManifest(set: FixtureSet, family: (typeof FIXTURE_FAMILIES)[number] = 'shardex'): Manifest {
  return JSON.parse(fs.readFileSync(path.join(fixtureDir(set, family), 'manifest.json'), 'utf8')) as Manifest
}

const temps: string[] = []
process.once('exit', () => {
  for (const dir of temps) fs.rmSync(dir, {recursive: true, force: true})
})

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'walctl-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  temps.push(dir)
  return dir
}

/** Copies a fixture set into a temporary directory (writable) and returns its root. */
export function copyFixture(set: FixtureSet, family: (typeof FIXTURE_FAMILIES)[number] = 'shardex'): string {
  const dest = path.join(tempDir(), set)
  fs.cpSync(fixtureDir(set, family), dest, {recursive: true})
  for (const f of fs.readdirSync(path.join(dest, 'wal'))) fs.chmodSync(path.join(dest, 'wal', f), 0o644)
  return dest
}

/** Every file's bytes and mtime under a directory, to prove a command changed nothing. */
export function snapshot(dir: string): Map<string, {bytes: string; mtimeMs: number}> {
  const out = new Map<string, {bytes: string; mtimeMs: number}>()
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name)
      const st = fs.statSync(p)
      if (st.isDirectory()) walk(p)
      else out.set(path.relative(dir, p), {bytes: fs.readFileSync(p).toString('base64'), mtimeMs: st.mtimeMs})
    }
  }
  walk(dir)
  return out
}
