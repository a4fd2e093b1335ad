// Carrying out one planned segment action on disk: rewriting a segment with
// only its kept record bytes, creating an empty one, or moving one aside.
// Every change goes through a temporary file, fsync and rename, so that a crash
// leaves the old segment or the new one, never a mix.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {createFileAtomic, fsyncDir, fsyncFile} from '../fs/files.js'
import {encodeHeader, FIELD, FIRST_RECORD_OFFSET} from '../format/format.js'
import {HeaderPlan, SegmentAction} from './recover-plan.js'
import {readSegment} from '../read/scan.js'
import {listWal} from '../read/directory.js'
import {checkRegularOrAbsent, unlinkRegular} from '../fs/safe-open.js'

/** The bytes a rewritten segment starts with: header, then the kept ranges back to back. Zeros follow to the segment size. */
export function rewrittenHead(original: Buffer, keep: ReadonlyArray<[number, number]>, header: HeaderPlan): Buffer {
  const kept = keep.reduce((n, [a, b]) => n + b - a, 0)
  const out = Buffer.alloc(FIRST_RECORD_OFFSET + kept)
  if (header.fresh || original.length < FIRST_RECORD_OFFSET) {
    encodeHeader(BigInt(header.createdAtUs), BigInt(header.modifiedAtUs)).copy(out, 0)
  } else {
    // Shardex's padding bytes and the WAL's reserved 9 bytes are kept as found.
    original.copy(out, 0, 0, FIRST_RECORD_OFFSET)
    out.writeBigUInt64LE(BigInt(header.createdAtUs), FIELD.createdAt.offset)
    out.writeBigUInt64LE(BigInt(header.modifiedAtUs), FIELD.modifiedAt.offset)
  }
  let at = FIRST_RECORD_OFFSET
  for (const [a, b] of keep) {
    original.copy(out, at, a, b)
    at += b - a
  }
  return out
}

/**
 * Applies one action; `quarantineDir` receives moved segments. A rewritten
 * segment keeps its owner, group and mode; a created one takes those of the
 * WAL's newest segment. Returns warnings (an owner walctl could not give,
 * not being root) for the command to print.
 */
export function applyAction(action: SegmentAction, segmentSize: number, quarantineDir: string): string[] {
  switch (action.action) {
    case 'rewrite': {
      const st = checkRegularOrAbsent(action.file, 'rewrite')
      const head = rewrittenHead(readSegment(action.file).data, action.keep, action.header!)
      // Only the file scanned is replaced: one swapped in meanwhile (a link, another file) is refused.
      const now = checkRegularOrAbsent(action.file, 'rewrite')
      if (st && now && (st.ino !== now.ino || st.dev !== now.dev)) throw new WalError(ExitCode.CANT_CREATE, 'refusing to rewrite: the file was replaced meanwhile', {file: action.file})
      return createFileAtomic(action.file, head, segmentSize, {replace: true, like: action.file})
    }
    case 'create': {
      const newest = listWal(path.dirname(action.file)).segments.at(-1)
      return createFileAtomic(action.file, rewrittenHead(Buffer.alloc(0), [], action.header!), segmentSize, {like: newest?.path})
    }
    case 'move': {
      const dest = path.join(quarantineDir, path.basename(action.file))
      const st = checkRegularOrAbsent(action.file, 'move into the quarantine')
      if (!st) throw new WalError(ExitCode.NO_INPUT, 'cannot move into the quarantine: the segment is gone', {file: action.file})
      // The bytes must be durable before the name moves: Shardex never syncs.
      fsyncFile(action.file)
      try {
        // link refuses an existing name (rename would replace it); then the segment's own name goes.
        fs.linkSync(action.file, dest)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new WalError(ExitCode.CANT_CREATE, 'cannot move a segment into the quarantine: a file of that name is already there', {file: dest})
        throw fsError(error, action.file, 'move into the quarantine')
      }
      unlinkRegular(action.file, 'move into the quarantine', st)
      fsyncDir(quarantineDir)
      fsyncDir(path.dirname(action.file))
      return []
    }
  }
  return []
}
