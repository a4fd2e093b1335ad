// walctl recover: scan, plan, quarantine, apply, verify again. The order is
// what makes it safe: every segment to be changed is copied aside and the
// copy fsynced before the first byte of the WAL changes, the report says what
// is about to happen before it happens, and each change is an atomic rename.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from '../errors.js'
import {fsyncDir} from '../fs/files.js'
import {nowMicros} from '../format/format.js'
import {resolveWalDir} from '../read/directory.js'
import {InterruptedError} from '../interrupt.js'
import {inventoryCollector, Loss, ModeOutcome, planRecovery, RecoverMode, RECOVER_MODES, SegmentAction} from './recover-plan.js'
import {applyAction} from './recover-rewrite.js'
import {currentCommandLine, tryAcquireWriterLock} from '../maintain/lock.js'
import {createQuarantine, Original, originalOf, quarantineCopy, reportIdentity, writeReport} from './quarantine.js'
import {hashFile} from '../fs/files.js'
import {FIRST_RECORD_OFFSET} from '../format/format.js'
import {Problem, scanWal, SegmentSummary, Verdict, WalScanOptions, WalScanResult} from '../read/scan.js'
import {scanWalAsync} from '../read/scan.js'

export {RECOVER_MODES}
export type {Loss, RecoverMode}

export interface RecoverOptions {
  mode?: RecoverMode
  dryRun?: boolean
  /** This reader's clock, microseconds (tests pin it). */
  nowUs?: bigint
  /**
   * The caller already holds the WAL's writer lock (the command takes it with
   * --wait). Otherwise recover takes it, failing with exit 75 when another
   * writer holds it. A dry run takes no lock: it must not create a file.
   */
  writerLockHeld?: boolean
  /** Called as each segment's scan ends (a progress bar's hook). */
  onSegmentEnd?: (summary: SegmentSummary) => void
  /** The WAL's segment size, for a WAL none of whose segments is long enough to tell it. */
  segmentSize?: number
  /** Rewrite or move segments without write permission too. */
  force?: boolean
}

/** One action as reported: paths relative to the WAL directory. */
export interface ActionReport {
  action: SegmentAction['action']
  segment: number
  file: string
  /** rewrite: bytes of records kept, written from offset 89. */
  keptBytes: number
  keptRecords: number
  droppedRecords: number
  loss: Loss
  /** The quarantine copy (or, for a move, the moved file), relative to the WAL directory. */
  quarantined: string | null
  why: string[]
}

/** What a mode would do, as reported: its outcome with the number of segments it changes instead of the actions. */
export type ModeSummary = Omit<ModeOutcome, 'actions'> & {changes: number}

export interface RecoverResult {
  dir: string
  mode: RecoverMode
  dryRun: boolean
  verdictBefore: Verdict
  /** After the changes (the same as before on a dry run or a refusal). */
  verdictAfter: Verdict
  /** 0 done or nothing to do (clean afterwards), 1 changed but still not clean, 2 refused (nothing changed). */
  exitCode: number
  /** Nothing was changed because the mode cannot repair this WAL. */
  refused: string | null
  changed: boolean
  quarantine: string | null
  records: {before: number; kept: number; dropped: number}
  /** The chosen mode's cost, counted apart (see Loss). */
  loss: Loss
  actions: ActionReport[]
  /** What every mode would keep and drop. */
  modes: ModeSummary[]
  problems: Problem[]
  /** Problems left after the changes (warnings such as stray files). */
  remaining: Problem[]
}

function summarize(o: ModeOutcome): ModeSummary {
  return {mode: o.mode, possible: o.possible, ...(o.reason ? {reason: o.reason} : {}), keptRecords: o.keptRecords, droppedRecords: o.droppedRecords, loss: o.loss, changes: o.actions.length}
}

function reportAction(a: SegmentAction, dir: string, quarantined: string | null): ActionReport {
  return {
    action: a.action,
    segment: a.segment,
    file: path.relative(dir, a.file),
    keptBytes: a.keep.reduce((n, [x, y]) => n + y - x, 0),
    keptRecords: a.keptRecords,
    droppedRecords: a.droppedRecords,
    loss: a.loss,
    quarantined: quarantined === null ? null : path.relative(dir, quarantined),
    why: a.why,
  }
}

/** What the step generator asks its driver for: a scan, or (undefined) a turn of the event loop at a safe point. */
type StepRequest = {scan: {dir: string; options: WalScanOptions}} | undefined
type Steps = Generator<StepRequest, RecoverResult, WalScanResult | undefined>

/** Repairs a WAL synchronously (the library call). A signal waits until it returns. */
export function recoverWal(input: string, options: RecoverOptions = {}): RecoverResult {
  const steps = recoverSteps(input, options)
  let step = steps.next()
  while (!step.done) step = steps.next(step.value ? scanWal(step.value.scan.dir, step.value.scan.options) : undefined)
  return step.value
}

/**
 * The same repair, letting the event loop turn between segments of a scan and
 * between recover's steps, where `options.checkpoint` (the command's interrupt
 * check) may throw to stop it. What is left on disk is what the step order
 * guarantees: nothing changed before the copies and report are durable, then
 * one atomic change per segment; report.json says 'interrupted'.
 */
export async function recoverWalAsync(input: string, options: RecoverOptions & {checkpoint?: () => void} = {}): Promise<RecoverResult> {
  const checkpoint = options.checkpoint ?? (() => undefined)
  const steps = recoverSteps(input, options)
  let step = steps.next()
  while (!step.done) {
    let answer: WalScanResult | undefined
    try {
      if (step.value) answer = await scanWalAsync(step.value.scan.dir, {...step.value.scan.options, checkpoint})
      else {
        await new Promise<void>((resolve) => setImmediate(resolve))
        checkpoint()
      }
    } catch (error) {
      step = steps.throw(error)
      continue
    }
    step = steps.next(answer)
  }
  return step.value
}

/**
 * The WAL directory recover would work on. A single file is refused: its
 * parent is not known to be a WAL, and is never repaired in its name.
 */
export function recoverTarget(input: string): string {
  let st: fs.Stats
  try {
    st = fs.statSync(input)
  } catch (error) {
    throw fsError(error, path.resolve(input), 'open')
  }
  if (!st.isDirectory()) throw new WalError(ExitCode.USAGE, 'not a directory: recover works on a WAL directory (or a Shardex index root), not on a single file', {file: path.resolve(input)})
  return resolveWalDir(input)
}

function* recoverSteps(input: string, options: RecoverOptions): Steps {
  const mode = options.mode ?? 'tolerate-tail'
  const nowUs = options.nowUs ?? nowMicros()
  const dir = recoverTarget(input)
  const dryRun = options.dryRun ?? false
  const lock = dryRun || options.writerLockHeld ? undefined : tryAcquireWriterLock(dir, {command: currentCommandLine()})
  try {
    return yield* recoverLocked(dir, mode, dryRun, nowUs, lock !== undefined || options.writerLockHeld === true, options)
  } finally {
    lock?.release()
  }
}

function* recoverLocked(dir: string, mode: RecoverMode, dryRun: boolean, nowUs: bigint, locked: boolean, options: RecoverOptions): Steps {
  // Without the lock a writer may be appending: let the scan wait out a record being written.
  const collector = inventoryCollector(locked ? {nowUs, settleTries: 0, onSegmentEnd: options.onSegmentEnd} : {nowUs, onSegmentEnd: options.onSegmentEnd})
  const inv = collector.finish((yield {scan: {dir, options: collector.options}})!)
  if (inv.scan.segments.length === 0) throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here: nothing to recover', {file: dir})
  const plan = planRecovery(inv, nowUs, {segmentSize: options.segmentSize, freeBytes: freeBytes(dir)})
  const chosen = plan.modes[mode]
  const protectedFile = options.force ? undefined : chosen.actions.find((a) => a.action !== 'create' && isWriteProtected(a.file))
  const refused = !chosen.possible ? chosen.reason ?? 'refused' : protectedFile ? protectedRefusal(protectedFile.file) : null
  const result: RecoverResult = {
    dir,
    mode,
    dryRun,
    verdictBefore: plan.verdict,
    verdictAfter: plan.verdict,
    exitCode: refused === null ? ExitCode.OK : ExitCode.DAMAGED,
    refused,
    changed: false,
    quarantine: null,
    records: {before: plan.records, kept: chosen.keptRecords, dropped: chosen.droppedRecords},
    loss: chosen.loss,
    actions: chosen.actions.map((a) => reportAction(a, dir, null)),
    modes: RECOVER_MODES.map((m) => summarize(plan.modes[m])),
    problems: plan.problems,
    remaining: plan.problems,
  }
  if (refused !== null || chosen.actions.length === 0 || result.dryRun) return result
  yield
  const moved = new Set(chosen.actions.filter((a) => a.action === 'move').map((a) => a.segment))
  const ids = [...inv.scan.segments.map((s) => s.id).filter((id) => !moved.has(id)), ...chosen.actions.filter((a) => a.action === 'create').map((a) => a.segment)]
  return yield* apply(result, chosen.actions, plan.segmentSize, nowUs, ids.length > 0 ? Math.max(...ids) : null)
}

/** What a change left in the WAL: enough for an undo to tell whether anything was written to the segment since. */
export interface LeftState {
  size: number
  sha256: string
  records: number
  /** End of the last record the change left (89 when none): a record at or after it was written since. */
  end: number
}

/** One action as report.json keeps it: what the command reports, plus what an undo needs. */
export interface ReportAction extends Omit<ActionReport, 'action'> {
  /** An undo's report also has `restore`: a segment put back from a quarantine folder. */
  action: ActionReport['action'] | 'restore'
  /** The original's size, mode, owner and SHA-256 (rewrite: of the copy's source; move: of the moved file). */
  original?: Original
  /** The segment as the change left it (rewrite, create). */
  left?: LeftState
}

/** report.json's fields common to recover and its undo: who, with what, when, on what. */
export function reportHeader(subcommand: string, mode: string, dir: string): Record<string, unknown> {
  return {tool: `walctl ${subcommand}`, subcommand, mode, ...reportIdentity(), dir}
}

export function leftState(file: string, records: number, end: number): LeftState {
  const {sha256, size} = hashFile(file, 'read back')
  return {size, sha256, records, end}
}

function* apply(result: RecoverResult, actions: SegmentAction[], segmentSize: number, nowUs: bigint, lastSegment: number | null): Steps {
  const {dir} = result
  const qdir = createQuarantine(dir)
  const header = reportHeader('recover', result.mode, dir)
  const reported: ReportAction[] = []
  const report = (status: string, extra: Record<string, unknown> = {}): void => {
    writeReport(qdir, {
      ...header,
      status,
      updated: new Date().toISOString(),
      verdictBefore: result.verdictBefore,
      records: result.records,
      loss: result.loss,
      lastSegment,
      actions: reported,
      problems: result.problems,
      ...extra,
    })
  }
  // Copies first, all of them durable, then the report; only then the WAL.
  const copied: ActionReport[] = []
  try {
    for (const a of actions) {
      if (a.action === 'rewrite') {
        const {dest, original} = quarantineCopy(a.file, qdir)
        copied.push(reportAction(a, dir, dest))
        reported.push({...copied.at(-1)!, original})
      } else if (a.action === 'move') {
        // The moved file is the original: its hash is read now, before it moves.
        const {sha256, size, st} = hashFile(a.file, 'read before moving into the quarantine')
        copied.push(reportAction(a, dir, path.join(qdir, path.basename(a.file))))
        reported.push({...copied.at(-1)!, original: originalOf(st, sha256, size)})
      } else {
        copied.push(reportAction(a, dir, null))
        reported.push({...copied.at(-1)!})
      }
      yield
    }
  } catch (error) {
    if (error instanceof InterruptedError) {
      report('interrupted', {error: error.message, applied: 0})
      throw new WalError(error.exitCode, `${error.message}; the WAL is unchanged (only copies were made, in ${qdir})`)
    }
    throw error
  }
  result.actions = copied
  fsyncDir(qdir)
  report('started')
  result.quarantine = qdir
  let done = 0
  for (const a of actions) {
    try {
      if (done > 0) yield
      applyAction(a, segmentSize, qdir)
      if (a.action !== 'move') reported[done].left = leftState(a.file, a.keptRecords, FIRST_RECORD_OFFSET + reported[done].keptBytes)
      done++
    } catch (error) {
      const e = error instanceof WalError ? error : fsError(error, a.file, `${a.action} segment`)
      const interrupted = error instanceof InterruptedError
      report(interrupted ? 'interrupted' : 'failed', {error: e.message, applied: done})
      const state = interrupted
        ? `${done} of ${actions.length} change(s) made, each complete; run the same recover again to finish`
        : 'the quarantine holds a copy of every segment to be changed and report.json'
      throw new WalError(e.exitCode, `${e.message}; ${state} (quarantine: ${qdir})`, {file: e.file, offset: e.offset, segment: e.segment})
    }
  }
  result.changed = true
  const after = (yield {scan: {dir, options: {nowUs, settleTries: 0}}})!
  result.verdictAfter = after.verdict
  result.remaining = after.problems
  if (after.verdict !== 'clean') {
    // Exit 2 means nothing changed; a change that leaves the WAL still not clean is 1.
    result.exitCode = ExitCode.REPAIRABLE
    result.refused = null
  }
  report(after.verdict === 'clean' ? 'done' : 'done, but the WAL is still not clean', {verdictAfter: after.verdict, remaining: after.problems})
  return result
}

/** Free bytes on the file system holding `dir`, or undefined where it cannot be told. */
function freeBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir)
    return s.bavail * s.bsize
  } catch {
    return undefined
  }
}

/** A segment the operator made read-only (no write bit for anyone) is evidence: root could still write it. */
function isWriteProtected(file: string): boolean {
  try {
    return (fs.lstatSync(file).mode & 0o222) === 0
  } catch {
    return false
  }
}

function protectedRefusal(file: string): string {
  return `${path.basename(file)} has no write permission (mode ${(fs.lstatSync(file).mode & 0o7777).toString(8).padStart(4, '0')}): recover does not rewrite or move a segment someone made read-only; make it writable, or pass --force`
}
