// walctl recover: scan, plan, quarantine, apply, verify again. The order is
// what makes it safe: every segment to be changed is copied aside and the
// copy fsynced before the first byte of the WAL changes, the report says what
// is about to happen before it happens, and each change is an atomic rename.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from './errors.js'
import {fsyncDir} from './files.js'
import {nowMicros} from './format.js'
import {resolveWalDir} from './directory.js'
import {ModeOutcome, planRecovery, RecoverMode, RECOVER_MODES, SegmentAction, takeInventory} from './recover-plan.js'
import {applyAction} from './recover-rewrite.js'
import {currentCommandLine, tryAcquireWriterLock} from './lock.js'
import {createQuarantine, quarantineCopy, writeReport} from './quarantine.js'
import {Problem, scanWal, SegmentSummary, Verdict} from './scan.js'

export {RECOVER_MODES}
export type {RecoverMode}

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
  /** The quarantine copy (or, for a move, the moved file), relative to the WAL directory. */
  quarantined: string | null
  why: string[]
}

export interface ModeSummary {
  mode: RecoverMode
  possible: boolean
  reason?: string
  keptRecords: number
  droppedRecords: number
  changes: number
}

export interface RecoverResult {
  dir: string
  mode: RecoverMode
  dryRun: boolean
  verdictBefore: Verdict
  /** After the changes (the same as before on a dry run or a refusal). */
  verdictAfter: Verdict
  /** 0 done or nothing to do, 2 refused (nothing changed). */
  exitCode: number
  /** Nothing was changed because the mode cannot repair this WAL. */
  refused: string | null
  changed: boolean
  quarantine: string | null
  records: {before: number; kept: number; dropped: number}
  actions: ActionReport[]
  /** What every mode would keep and drop. */
  modes: ModeSummary[]
  problems: Problem[]
  /** Problems left after the changes (warnings such as stray files). */
  remaining: Problem[]
}

function summarize(o: ModeOutcome): ModeSummary {
  return {mode: o.mode, possible: o.possible, ...(o.reason ? {reason: o.reason} : {}), keptRecords: o.keptRecords, droppedRecords: o.droppedRecords, changes: o.actions.length}
}

function reportAction(a: SegmentAction, dir: string, quarantined: string | null): ActionReport {
  return {
    action: a.action,
    segment: a.segment,
    file: path.relative(dir, a.file),
    keptBytes: a.keep.reduce((n, [x, y]) => n + y - x, 0),
    keptRecords: a.keptRecords,
    droppedRecords: a.droppedRecords,
    quarantined: quarantined === null ? null : path.relative(dir, quarantined),
    why: a.why,
  }
}

export function recoverWal(input: string, options: RecoverOptions = {}): RecoverResult {
  const mode = options.mode ?? 'tolerate-tail'
  const nowUs = options.nowUs ?? nowMicros()
  let st: fs.Stats
  try {
    st = fs.statSync(input)
  } catch (error) {
    throw fsError(error, path.resolve(input), 'open')
  }
  if (!st.isDirectory()) throw new WalError(ExitCode.USAGE, 'recover works on a WAL directory (or a Shardex index root), not on a single file', {file: path.resolve(input)})
  const dir = resolveWalDir(input)
  const dryRun = options.dryRun ?? false
  const lock = dryRun || options.writerLockHeld ? undefined : tryAcquireWriterLock(dir, {command: currentCommandLine()})
  try {
    return recoverLocked(dir, mode, dryRun, nowUs, lock !== undefined || options.writerLockHeld === true, options.onSegmentEnd)
  } finally {
    lock?.release()
  }
}

function recoverLocked(dir: string, mode: RecoverMode, dryRun: boolean, nowUs: bigint, locked: boolean, onSegmentEnd?: (summary: SegmentSummary) => void): RecoverResult {
  // Without the lock a writer may be appending: let the scan wait out a record being written.
  const inv = takeInventory(dir, locked ? {nowUs, settleTries: 0, onSegmentEnd} : {nowUs, onSegmentEnd})
  if (inv.scan.segments.length === 0) throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here: nothing to recover', {file: dir})
  const plan = planRecovery(inv, nowUs)
  const chosen = plan.modes[mode]
  const result: RecoverResult = {
    dir,
    mode,
    dryRun,
    verdictBefore: plan.verdict,
    verdictAfter: plan.verdict,
    exitCode: chosen.possible ? ExitCode.OK : ExitCode.DAMAGED,
    refused: chosen.possible ? null : chosen.reason ?? 'refused',
    changed: false,
    quarantine: null,
    records: {before: plan.records, kept: chosen.keptRecords, dropped: chosen.droppedRecords},
    actions: chosen.actions.map((a) => reportAction(a, dir, null)),
    modes: RECOVER_MODES.map((m) => summarize(plan.modes[m])),
    problems: plan.problems,
    remaining: plan.problems,
  }
  if (!chosen.possible || chosen.actions.length === 0 || result.dryRun) return result
  return apply(result, chosen.actions, plan.segmentSize, nowUs)
}

function apply(result: RecoverResult, actions: SegmentAction[], segmentSize: number, nowUs: bigint): RecoverResult {
  const {dir} = result
  const qdir = createQuarantine(dir)
  const report = (status: string, extra: Record<string, unknown> = {}): void => {
    writeReport(qdir, {
      tool: 'walctl recover',
      status,
      time: new Date().toISOString(),
      dir,
      mode: result.mode,
      verdictBefore: result.verdictBefore,
      records: result.records,
      actions: result.actions,
      problems: result.problems,
      ...extra,
    })
  }
  // Copies first, all of them durable, then the report; only then the WAL.
  result.actions = actions.map((a) => {
    if (a.action === 'rewrite') return reportAction(a, dir, quarantineCopy(a.file, qdir))
    if (a.action === 'move') return reportAction(a, dir, path.join(qdir, path.basename(a.file)))
    return reportAction(a, dir, null)
  })
  fsyncDir(qdir)
  report('started')
  result.quarantine = qdir
  for (const a of actions) {
    try {
      applyAction(a, segmentSize, qdir)
    } catch (error) {
      const e = error instanceof WalError ? error : fsError(error, a.file, `${a.action} segment`)
      report('failed', {error: e.message})
      throw new WalError(e.exitCode, `${e.message}; the quarantine ${qdir} holds a copy of every segment to be changed and report.json`, {file: e.file, offset: e.offset, segment: e.segment})
    }
  }
  result.changed = true
  const after = scanWal(dir, {nowUs, settleTries: 0})
  result.verdictAfter = after.verdict
  result.remaining = after.problems
  if (after.verdict !== 'clean') {
    result.exitCode = ExitCode.DAMAGED
    result.refused = null
  }
  report(after.verdict === 'clean' ? 'done' : 'done, but the WAL is still not clean', {verdictAfter: after.verdict, remaining: after.problems})
  return result
}
