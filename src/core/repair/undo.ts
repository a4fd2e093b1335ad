// walctl recover --undo: puts back what a recover (or an undo) changed, from
// its quarantine folder. The same order as recover makes it safe: every check
// is made before anything changes (a copy that no longer matches its SHA-256,
// a segment written to since, a segment added since: refused, exit 2, nothing
// changed); then the current state of every segment to be replaced or removed
// goes to a new quarantine folder with its own report.json (mode `undo`), so
// that an undo can itself be undone; only then does the WAL change, one
// atomic step per segment. A step already as the undo leaves it is skipped,
// so an interrupted undo is finished by running it again.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {fsyncDir, fsyncFile, readAt, tempNameFor} from '../fs/files.js'
import {FIRST_RECORD_OFFSET, RECORD_HEADER_SIZE} from '../format/format.js'
import {listWal} from '../read/directory.js'
import {applyOwnership} from '../fs/owner.js'
import {checkDirOrAbsent, checkRegularOrAbsent, createExclusive, lstatOrUndefined, openForReading, unlinkRegular} from '../fs/safe-open.js'
import {escapeName} from '../fs/quote.js'
import {InterruptedError} from '../interrupt.js'
import {currentCommandLine, tryAcquireWriterLock} from '../maintain/lock.js'
import {parseSegmentFileName, segmentFileName} from '../format/names.js'
import {createQuarantine, Original, originalOf, QUARANTINE_DIR, quarantineCopy, REPORT_FILE, writeReport} from './quarantine.js'
import {eachChunk, hashFile, writeAt} from '../fs/files.js'
import {firstNonZero} from '../format/records.js'
import {scanWal} from '../read/scan.js'
import {LeftState, recoverTarget, ReportAction, reportHeader} from './recover.js'
import {applyAction} from './recover-rewrite.js'
import {noLoss} from './recover-plan.js'
import {createHash} from 'node:crypto'

export interface UndoStep {
  /**
   * rewrite: the segment gets the quarantined original's bytes, mode and owner back;
   * restore: a segment moved into the quarantine goes back into the WAL;
   * move: a segment the change created goes into the new quarantine.
   */
  action: 'rewrite' | 'restore' | 'move'
  segment: number
  /** Relative to the WAL directory, as every path here. */
  file: string
  /** The original put back (rewrite, restore). */
  from: string | null
  /** Where the segment's current state goes (rewrite: a copy; move: the segment itself), in the new quarantine. */
  quarantined: string | null
  /** Already as the undo leaves it (the change was never made, or an interrupted undo made it): skipped. */
  done: boolean
}

export interface UndoResult {
  dir: string
  /** The quarantine folder undone, relative to the WAL directory. */
  undo: string
  dryRun: boolean
  exitCode: number
  changed: boolean
  /** The new quarantine folder holding the state replaced, with its report.json (mode `undo`). */
  quarantine: string | null
  steps: UndoStep[]
  /** An owner walctl could not give back (not root), one line each. */
  warnings: string[]
}

export interface UndoOptions {
  dryRun?: boolean
  /** The caller holds the WAL's writer lock (see RecoverOptions). */
  writerLockHeld?: boolean
  /** Called between steps; throws InterruptedError to stop at that safe point. */
  checkpoint?: () => void
}

const MAX_REPORT_BYTES = 64 * 1024 * 1024

interface Planned {
  step: UndoStep
  /** The report entry undone. */
  entry: ReportAction
  /** Absolute paths. */
  file: string
  from: string | null
}

function refuse(reason: string, file?: string, offset?: number): WalError {
  return new WalError(ExitCode.DAMAGED, `recover --undo refused, nothing changed: ${reason}`, {file, offset})
}

/** Reads a whole regular file (not through a link) of at most `max` bytes. */
function readWhole(file: string, max: number, action: string): Buffer {
  const fd = openForReading(file, action)
  try {
    const size = fs.fstatSync(fd).size
    if (size > max) throw refuse(`${escapeName(path.basename(file))} is ${size} bytes, more than ${max}`, file)
    return readAt(fd, 0, size)
  } finally {
    fs.closeSync(fd)
  }
}

/** The folder named, checked to be one of this WAL's quarantine folders: a real directory in DIR/quarantine/, with a report.json. */
export function resolveQuarantine(dir: string, given: string): string {
  const root = path.join(dir, QUARANTINE_DIR)
  let qdir = path.resolve(given)
  if (!lstatOrUndefined(qdir) && !given.includes('/')) qdir = path.join(root, given)
  const st = lstatOrUndefined(qdir)
  if (!st) throw new WalError(ExitCode.NO_INPUT, 'no such quarantine folder', {file: qdir})
  if (!st.isDirectory()) throw refuse(`${escapeName(qdir)} is not a quarantine folder (${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'})`, qdir)
  const rootSt = checkDirOrAbsent(root, 'read the quarantine')
  const parent = fs.statSync(path.dirname(qdir))
  if (!rootSt || parent.ino !== rootSt.ino || parent.dev !== rootSt.dev) {
    throw refuse(`${escapeName(qdir)} is not a quarantine folder of this WAL (those are in ${escapeName(root)})`, qdir)
  }
  return path.join(root, path.basename(qdir))
}

interface Report {
  mode?: unknown
  lastSegment?: unknown
  actions?: unknown
}

function readReport(qdir: string): {report: Report; actions: ReportAction[]} {
  const file = path.join(qdir, REPORT_FILE)
  if (!lstatOrUndefined(file)) throw refuse('no report.json in it: not a quarantine folder walctl wrote', qdir)
  let report: Report
  try {
    report = JSON.parse(readWhole(file, MAX_REPORT_BYTES, 'read the report').toString('utf8')) as Report
  } catch (error) {
    if (error instanceof WalError) throw error
    throw refuse(`report.json is not valid JSON (${(error as Error).message})`, file)
  }
  if (typeof report !== 'object' || report === null || !Array.isArray(report.actions)) throw refuse('report.json lists no actions', file)
  return {report, actions: report.actions as ReportAction[]}
}

/**
 * Valid records of the WAL segment `file` (the scanner's, in bounded memory):
 * how many, how many start at or after `from` (written since a change that
 * ended its records there), and where the last one ends.
 */
function recordsOf(file: string, from = Infinity): {records: number; after: number; firstAfter: number; end: number} {
  const id = parseSegmentFileName(path.basename(file))!
  let after = 0
  let firstAfter = -1
  let end = FIRST_RECORD_OFFSET
  const scan = scanWal(path.dirname(file), {
    segments: new Set([id]),
    settleTries: 0,
    onRecord: (_segment, _payload, offset, length) => {
      end = Math.max(end, offset + RECORD_HEADER_SIZE + length)
      if (offset >= from) {
        after++
        if (firstAfter < 0) firstAfter = offset
      }
    },
  })
  return {records: scan.segments.find((s) => s.id === id)?.records ?? 0, after, firstAfter, end}
}

/** The first non-zero byte of `file` at or after `from`, or -1: read a megabyte at a time. */
function firstNonZeroFrom(file: string, from: number): number {
  const fd = openForReading(file, 'read')
  let found = -1
  try {
    eachChunk(fd, (chunk, at) => {
      if (found >= 0 || at + chunk.length <= from) return
      const start = Math.max(0, from - at)
      const nz = firstNonZero(chunk, start, chunk.length)
      if (nz >= 0) found = at + nz
    })
  } finally {
    fs.closeSync(fd)
  }
  return found
}

function validOriginal(o: Original | undefined): boolean {
  return typeof o === 'object' && o !== null && typeof o.sha256 === 'string' && Number.isSafeInteger(o.size) && Number.isSafeInteger(o.uid) && Number.isSafeInteger(o.gid) && typeof o.mode === 'string' && /^[0-7]{1,4}$/.test(o.mode)
}

function validLeft(l: LeftState | undefined): l is LeftState {
  return typeof l === 'object' && l !== null && typeof l.sha256 === 'string' && Number.isSafeInteger(l.records) && Number.isSafeInteger(l.end)
}

/** Refuses when the segment holds records written since the change left it as `left`. */
function checkNothingWrittenSince(file: string, left: LeftState | undefined, what: string): void {
  const name = escapeName(path.basename(file))
  if (!validLeft(left)) throw refuse(`${name} changed since the ${what}, which had not changed it (report.json has no state for it)`, file)
  if (hashFile(file, 'read').sha256 === left.sha256) return
  const now = recordsOf(file, left.end)
  if (now.after > 0 || now.records > left.records) {
    const at = now.firstAfter >= 0 ? now.firstAfter : left.end
    throw refuse(`${name} holds ${now.records} record(s), ${now.after > 0 ? `${now.after} of them from offset ${at} on, ` : ''}written since the ${what} (which left ${left.records} ending at ${left.end}); undoing would take them out of the WAL`, file, at)
  }
}

function plan(dir: string, qdir: string, actions: ReportAction[], what: string): Planned[] {
  const rel = (p: string): string => path.relative(dir, p)
  const out: Planned[] = []
  // The reverse of the order the changes were made in.
  for (const entry of [...actions].reverse()) {
    const given = typeof entry === 'object' && entry !== null ? entry.segment : undefined
    if (!Number.isSafeInteger(given) || given! < 0 || typeof entry.action !== 'string') throw refuse('report.json holds an action without a segment id', path.join(qdir, REPORT_FILE))
    const seg = given!
    const name = segmentFileName(seg)
    const file = path.join(dir, name)
    const copy = path.join(qdir, name)
    // Paths come from the ids, never from the report's text: a report naming anything else is refused.
    if (entry.file !== name || (entry.quarantined !== null && entry.quarantined !== undefined && entry.quarantined !== rel(copy))) {
      throw refuse(`report.json names ${escapeName(String(entry.file))} / ${escapeName(String(entry.quarantined))} for segment ${seg}, not ${name} and ${rel(copy)}`, path.join(qdir, REPORT_FILE))
    }
    const current = checkRegularOrAbsent(file, 'undo')
    const step = (action: UndoStep['action'], from: string | null, done: boolean): Planned => ({
      step: {action, segment: seg, file: name, from: from === null ? null : rel(from), quarantined: null, done},
      entry,
      file,
      from,
    })
    const checkOriginal = (o: Original | undefined): void => {
      if (!validOriginal(o)) throw refuse(`report.json has no SHA-256 of ${name}'s original (written by an older walctl): put it back by hand from ${rel(copy)}`, path.join(qdir, REPORT_FILE))
      const h = hashFile(copy, 'read the quarantined original')
      if (h.sha256 !== o!.sha256 || h.size !== o!.size) throw refuse(`${rel(copy)} does not match the SHA-256 in report.json (${h.size} bytes, sha256 ${h.sha256.slice(0, 16)}..., expected ${o!.size} bytes, ${o!.sha256.slice(0, 16)}...)`, copy)
    }
    switch (entry.action) {
      case 'rewrite': {
        if (!current) throw refuse(`${name} is gone from the WAL since the ${what}; nothing to put its original in place of`, file)
        const o = entry.original
        checkOriginal(o)
        // Bytes already the original's: only the owner or mode may be left to put back.
        if (hashFile(file, 'read').sha256 === o!.sha256) {
          out.push(step('rewrite', copy, sameOwnership(current, o!)))
          break
        }
        checkNothingWrittenSince(file, entry.left, what)
        out.push(step('rewrite', copy, false))
        break
      }
      case 'move': {
        if (!lstatOrUndefined(copy)) {
          if (current && validOriginal(entry.original) && hashFile(file, 'read').sha256 === entry.original!.sha256) {
            out.push(step('restore', copy, true))
            break
          }
          throw refuse(`${rel(copy)} is gone from the quarantine${current ? `, and ${name} in the WAL is not it` : ''}`, copy)
        }
        checkOriginal(entry.original)
        if (current) throw refuse(`${name} exists again in the WAL (made since the ${what}): putting the original back would replace it`, file)
        out.push(step('restore', copy, false))
        break
      }
      case 'create':
      case 'restore': {
        if (!current) {
          out.push(step('move', null, true))
          break
        }
        if (entry.action === 'create') {
          // Removed only while it is still the empty segment the recover made.
          const nz = firstNonZeroFrom(file, FIRST_RECORD_OFFSET)
          if (nz >= 0) throw refuse(`${name}, created empty by the ${what}, holds ${recordsOf(file).records} record(s) and data from offset ${nz} on: undoing would take them out of the WAL`, file, nz)
        } else checkNothingWrittenSince(file, entry.left, what)
        out.push(step('move', null, false))
        break
      }
      default:
        throw refuse(`report.json holds an unknown action '${escapeName(String(entry.action))}'`, path.join(qdir, REPORT_FILE))
    }
  }
  return out
}

function sameOwnership(st: fs.Stats, o: Original): boolean {
  return st.uid === o.uid && st.gid === o.gid && (st.mode & 0o777) === (Number.parseInt(o.mode, 8) & 0o777)
}

/** Segments added after the range the change left: an undo would strand their records behind restored ones. */
function checkNoNewSegments(dir: string, lastSegment: unknown, steps: Planned[], what: string): void {
  if (typeof lastSegment !== 'number') return
  const restored = new Set(steps.filter((p) => p.step.action === 'restore').map((p) => p.step.segment))
  const added = listWal(dir).segments.filter((s) => s.id > lastSegment && !restored.has(s.id))
  if (added.length === 0) return
  const records = added.reduce((n, s) => n + recordsOf(s.path).records, 0)
  const names = added.length === 1 ? added[0].name : `${added[0].name}..${added.at(-1)!.name}`
  throw refuse(`${names} (${records} record(s)) were added after the ${what}, which left the WAL ending at ${segmentFileName(lastSegment)}: undoing would lose them or put older records after them`, added[0].path)
}

/** Undoes the recover (or undo) whose quarantine folder is `quarantine`. */
export async function undoRecover(input: string, quarantine: string, options: UndoOptions = {}): Promise<UndoResult> {
  const dir = recoverTarget(input)
  const dryRun = options.dryRun ?? false
  const lock = dryRun || options.writerLockHeld ? undefined : tryAcquireWriterLock(dir, {command: currentCommandLine()})
  try {
    return await undoLocked(dir, quarantine, dryRun, options.checkpoint ?? (() => undefined))
  } finally {
    lock?.release()
  }
}

async function undoLocked(dir: string, given: string, dryRun: boolean, checkpoint: () => void): Promise<UndoResult> {
  const qdir = resolveQuarantine(dir, given)
  const {report, actions} = readReport(qdir)
  const what = report.mode === 'undo' ? 'undo' : 'recover'
  const planned = plan(dir, qdir, actions, what)
  checkNoNewSegments(dir, report.lastSegment, planned, what)
  const result: UndoResult = {dir, undo: path.relative(dir, qdir), dryRun, exitCode: ExitCode.OK, changed: false, quarantine: null, steps: planned.map((p) => p.step), warnings: []}
  const todo = planned.filter((p) => !p.step.done)
  if (dryRun || todo.length === 0) return result
  const pause = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve))
    checkpoint()
  }
  await pause()
  const udir = createQuarantine(dir)
  result.quarantine = udir
  const header = {...reportHeader('recover', 'undo', dir), undoes: path.relative(dir, qdir)}
  const reported: ReportAction[] = []
  const ids = new Set(listWal(dir).segments.map((s) => s.id))
  for (const p of todo) {
    if (p.step.action === 'move') ids.delete(p.step.segment)
    if (p.step.action === 'restore') ids.add(p.step.segment)
  }
  const write = (status: string, extra: Record<string, unknown> = {}): void => {
    writeReport(udir, {...header, status, updated: new Date().toISOString(), lastSegment: ids.size > 0 ? Math.max(...ids) : null, actions: reported, ...extra})
  }
  // Copies of what is replaced first, durable, then the report; only then the WAL.
  try {
    for (const p of todo) {
      const base: ReportAction = {
        action: p.step.action,
        segment: p.step.segment,
        file: p.step.file,
        keptBytes: 0,
        keptRecords: 0,
        droppedRecords: 0,
        loss: noLoss(),
        quarantined: null,
        why: [`undo of ${path.relative(dir, qdir)}`],
      }
      if (p.step.action === 'rewrite') {
        const {dest, original} = quarantineCopy(p.file, udir)
        base.quarantined = path.relative(dir, dest)
        base.original = original
      } else if (p.step.action === 'move') {
        const {sha256, size, st} = hashFile(p.file, 'read before moving into the quarantine')
        base.quarantined = path.relative(dir, path.join(udir, p.step.file))
        base.original = originalOf(st, sha256, size)
      }
      p.step.quarantined = base.quarantined
      reported.push(base)
      await pause()
    }
  } catch (error) {
    if (error instanceof InterruptedError) {
      write('interrupted', {error: error.message, applied: 0})
      throw new WalError(error.exitCode, `${error.message}; the WAL is unchanged (only copies were made, in ${udir})`)
    }
    throw error
  }
  fsyncDir(udir)
  write('started')
  let done = 0
  for (const p of todo) {
    try {
      if (done > 0) await pause()
      reported[done].left = applyStep(p, udir, result.warnings)
      done++
      result.changed = true
    } catch (error) {
      const e = error instanceof WalError ? error : fsError(error, p.file, `undo ${p.step.action}`)
      const interrupted = error instanceof InterruptedError
      write(interrupted ? 'interrupted' : 'failed', {error: e.message, applied: done})
      const state = interrupted ? `${done} of ${todo.length} step(s) made, each complete; run the same undo again to finish` : 'the new quarantine holds a copy of every segment to be replaced and report.json'
      throw new WalError(e.exitCode, `${e.message}; ${state} (quarantine: ${udir})`, {file: e.file, offset: e.offset})
    }
  }
  write('done')
  return result
}

/** Carries out one step; returns the state it left the segment in (for an undo of this undo). */
function applyStep(p: Planned, udir: string, warnings: string[]): LeftState | undefined {
  switch (p.step.action) {
    case 'rewrite': {
      const o = p.entry.original!
      const before = checkRegularOrAbsent(p.file, 'replace')
      const temp = tempNameFor(p.file)
      const fd = createExclusive(temp, 0o600, 'write the original back')
      let size = 0
      try {
        // Set-id and sticky bits are never given back, as walctl never copies them (fs/owner.ts).
        warnings.push(...applyOwnership(fd, p.file, {uid: o.uid, gid: o.gid, mode: Number.parseInt(o.mode, 8) & 0o777}))
        // Copied a megabyte at a time and hashed on the way: what goes back is what was checked.
        const src = openForReading(p.from!, 'read the quarantined original')
        const hash = createHash('sha256')
        try {
          size = eachChunk(src, (chunk, at) => {
            hash.update(chunk)
            writeAt(fd, chunk, at)
          })
        } finally {
          fs.closeSync(src)
        }
        if (hash.digest('hex') !== o.sha256 || size !== o.size) throw new WalError(ExitCode.DAMAGED, 'the quarantined original changed during the undo: it no longer matches its SHA-256 in report.json', {file: p.from!})
        fs.fsyncSync(fd)
      } catch (error) {
        fs.closeSync(fd)
        unlinkRegular(temp, 'remove a temporary file')
        if (error instanceof WalError) throw error
        throw fsError(error, temp, 'write the original back', ExitCode.CANT_CREATE)
      }
      fs.closeSync(fd)
      const now = checkRegularOrAbsent(p.file, 'replace')
      if (before && now && (before.ino !== now.ino || before.dev !== now.dev)) {
        unlinkRegular(temp, 'remove a temporary file')
        throw new WalError(ExitCode.CANT_CREATE, 'refusing to replace: the file was replaced meanwhile', {file: p.file})
      }
      try {
        fs.renameSync(temp, p.file)
      } catch (error) {
        unlinkRegular(temp, 'remove a temporary file')
        throw fsError(error, p.file, 'rename the original into place', ExitCode.CANT_CREATE)
      }
      fsyncDir(path.dirname(p.file))
      const r = recordsOf(p.file)
      return {size, sha256: o.sha256, records: r.records, end: r.end}
    }
    case 'restore': {
      const st = checkRegularOrAbsent(p.from!, 'put back')
      if (!st) throw new WalError(ExitCode.NO_INPUT, 'cannot put the segment back: it is gone from the quarantine', {file: p.from!})
      fsyncFile(p.from!)
      try {
        // link refuses a name that exists (rename would replace it).
        fs.linkSync(p.from!, p.file)
      } catch (error) {
        throw fsError(error, p.file, 'put the segment back', ExitCode.CANT_CREATE)
      }
      // A link swapped in after the check would now have a segment's name: taken back out, refused.
      const linked = fs.lstatSync(p.file)
      if (!linked.isFile() || linked.ino !== st.ino || linked.dev !== st.dev) {
        fs.unlinkSync(p.file)
        throw new WalError(ExitCode.CANT_CREATE, 'refusing to put back: the quarantined file was replaced meanwhile', {file: p.from!})
      }
      unlinkRegular(p.from!, 'take the segment out of the quarantine', st)
      fsyncDir(path.dirname(p.file))
      fsyncDir(path.dirname(p.from!))
      const h = hashFile(p.file, 'read back')
      const r = recordsOf(p.file)
      return {size: h.size, sha256: h.sha256, records: r.records, end: r.end}
    }
    case 'move':
      applyAction({action: 'move', segment: p.step.segment, file: p.file, keep: [], keptRecords: 0, droppedRecords: 0, loss: noLoss(), why: []}, 0, udir)
      return undefined
  }
}
