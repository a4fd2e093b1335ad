// Finding a WAL on disk: which directory holds the segments, which files are
// segments, and which are strays. Read-only: it never changes a file.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {TEMP_SUFFIX} from '../fs/files.js'
import {compareNames, parseSegmentFileName} from '../format/names.js'
import {strayKindOf} from '../fs/safe-open.js'

/** Shardex keeps its WAL in this folder of an index root. */
export const SHARDEX_WAL_DIR = 'wal'

export interface SegmentFile {
  id: number
  name: string
  path: string
  size: number
}

export interface StrayFile {
  name: string
  path: string
  /**
   * `temporary` for an interrupted create (`*.tmp`), `directory` for a folder;
   * `symlink`, `fifo`, `socket` or `device` for what is no regular file (even
   * when named like a segment: walctl never reads or writes through it);
   * `other` otherwise.
   */
  kind: 'temporary' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'device' | 'other'
}

export interface WalListing {
  dir: string
  /** In id order. */
  segments: SegmentFile[]
  strays: StrayFile[]
}

/** Folders walctl itself keeps inside a WAL directory; not strays. */
export const OWN_ENTRIES = new Set(['quarantine', '.walctl.lock', '.walctl.lock.lock'])

function statOrNull(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fsError(error, p, 'stat')
  }
}

/**
 * The WAL directory for a path given by a user: the path itself when it holds
 * segments or is not a Shardex index root, else its `wal/` folder.
 */
export function resolveWalDir(input: string): string {
  const abs = path.resolve(input)
  const st = statOrNull(abs)
  if (!st) throw new WalError(ExitCode.NO_INPUT, 'no such directory', {file: abs})
  if (!st.isDirectory()) throw new WalError(ExitCode.NO_INPUT, 'not a directory (expected a WAL directory or a Shardex index root)', {file: abs})
  const nested = path.join(abs, SHARDEX_WAL_DIR)
  if (hasSegments(abs)) return abs
  const nst = statOrNull(nested)
  return nst?.isDirectory() ? nested : abs
}

function hasSegments(dir: string): boolean {
  return readNames(dir).some((n) => parseSegmentFileName(n) !== undefined && fs.lstatSync(path.join(dir, n), {throwIfNoEntry: false})?.isFile())
}

/** How a stray of `kind` is called in a message: `symbolic link`, `FIFO`, `directory`, `file`. */
export function strayNoun(kind: StrayFile['kind']): string {
  const nouns: Partial<Record<StrayFile['kind'], string>> = {directory: 'directory', symlink: 'symbolic link', fifo: 'FIFO', socket: 'socket', device: 'device'}
  return nouns[kind] ?? 'file'
}

function readNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch (error) {
    throw fsError(error, dir, 'list directory')
  }
}

/** Lists a WAL directory's segments in id order and its other files. */
export function listWal(dir: string): WalListing {
  const segments: SegmentFile[] = []
  const strays: StrayFile[] = []
  for (const name of readNames(dir)) {
    const p = path.join(dir, name)
    const id = parseSegmentFileName(name)
    let st: fs.Stats
    try {
      st = fs.lstatSync(p)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw fsError(error, p, 'stat')
    }
    if (id !== undefined && st.isFile()) {
      segments.push({id, name, path: p, size: st.size})
    } else if (!OWN_ENTRIES.has(name)) {
      strays.push({name, path: p, kind: st.isDirectory() ? 'directory' : strayKindOf(st) ?? (name.endsWith(TEMP_SUFFIX) ? 'temporary' : 'other')})
    }
  }
  segments.sort((a, b) => a.id - b.id)
  strays.sort((a, b) => compareNames(a.name, b.name))
  return {dir, segments, strays}
}

export interface MissingSegment {
  id: number
  /** The present segments on either side of the gap. */
  before: number
  after: number
}

/** Ids missing between the first and last segment (at most `limit` of them). */
export function missingIds(segments: readonly SegmentFile[], limit = 1000): MissingSegment[] {
  const missing: MissingSegment[] = []
  for (let i = 1; i < segments.length; i++) {
    const before = segments[i - 1].id
    const after = segments[i].id
    for (let id = before + 1; id < after && missing.length < limit; id++) missing.push({id, before, after})
  }
  return missing
}
