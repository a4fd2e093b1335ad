// The library API: what `import ... from 'walctl'` gives. The commands are thin
// layers over these same functions; nothing here prints or exits.

export {WalManager} from './core/write/manager.js'
export type {InitOptions, WriterOptions} from './core/write/manager.js'
export {WalSegment, checkSegmentSize} from './core/write/segment.js'
export type {OpenSegmentOptions} from './core/write/segment.js'

export {scanWal, scanWal as scan, scanWalAsync, missingSegmentIds, nominalSegmentSize} from './core/read/scan.js'
export type {
  Problem, ProblemKind, RecordPayload, SegmentSummary, Severity, Verdict, WalScanOptions, WalScanResult, WalScanVisitor,
} from './core/read/scan.js'
export {verifyWal, verifyWal as verify, verifyWalAsync, VERDICT_EXIT} from './core/read/verify.js'
export type {VerifyReport} from './core/read/verify.js'
export {verifyWalParallel} from './core/read/parallel-verify.js'
export type {ParallelVerifyOptions} from './core/read/parallel-verify.js'
export {recoverWal, recoverWal as recover, recoverWalAsync, RECOVER_MODES} from './core/repair/recover.js'
export {undoRecover} from './core/repair/undo.js'
export type {UndoOptions, UndoResult, UndoStep} from './core/repair/undo.js'
export type {ActionReport, ModeSummary, RecoverMode, RecoverOptions, RecoverResult} from './core/repair/recover.js'

export {explainShardexError} from './core/explain/explain.js'
export type {Explanation, ExplainOptions} from './core/explain/explain.js'
export {parseShardexMessage} from './core/explain/shardex-messages.js'
export type {ShardexMessage, ShardexMessageKind} from './core/explain/shardex-messages.js'

export {collectGarbage, collectGarbage as gc, collectGarbageAsync} from './core/maintain/gc.js'
export {installInterruptHandlers, checkInterrupt, safePoint, interruption, InterruptedError, signalExitCode} from './core/interrupt.js'
export type {InterruptSignal} from './core/interrupt.js'

export {archiveWal, pruneArchive} from './core/archive/archive.js'
export type {ArchiveOptions, ArchiveResult, PruneOptions, ShippedSegment} from './core/archive/archive.js'
export {restoreWal} from './core/archive/restore.js'
export type {RestoreOptions, RestoreResult} from './core/archive/restore.js'
export {verifyArchive} from './core/archive/verify-archive.js'
export type {ArchiveProblem, ArchiveVerifyReport} from './core/archive/verify-archive.js'
export {isArchiveUrl, openTarget, parseTarget} from './core/archive/target.js'
export type {ArchiveTarget, OpenTargetOptions} from './core/archive/target.js'
export type {ArchiveStore} from './core/archive/store.js'
export type {Manifest, ManifestSegment, CurrentSegment} from './core/archive/manifest.js'
export type {GcOptions, GcPolicy, GcResult, GcSegment} from './core/maintain/gc.js'
export {
  acquireWriterLock, tryAcquireWriterLock, readLockHolder, describeHolder, describeTakeover, LockedError, WriterLock, LOCK_FILE, LOCK_MUTEX,
} from './core/maintain/lock.js'
export type {AcquireOptions, LockHolder, Takeover, TakeoverReason} from './core/maintain/lock.js'

export {ExitCode, WalError, CorruptionError} from './core/errors.js'
export type {ExitCodeValue, WalErrorOptions} from './core/errors.js'

export {
  DEFAULT_SEGMENT_SIZE, FIRST_RECORD_OFFSET, HEADER_SIZE, MAGIC, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE,
  RECORD_HEADER_SIZE, VERSION, decodeHeader, maxPayloadSize, recordSize,
} from './core/format/format.js'
export type {SegmentHeader} from './core/format/format.js'
export {formatPosition, parsePosition, comparePositions, parseSegmentFileName, segmentFileName} from './core/format/names.js'
export type {Position} from './core/format/names.js'
export {listWal, resolveWalDir} from './core/read/directory.js'
export type {SegmentFile, StrayFile, WalListing} from './core/read/directory.js'
export {crc32} from './core/format/crc.js'

export {verifyMetrics, renderMetrics, writeMetricsFile} from './core/read/metrics.js'
export type {VerifyMetrics} from './core/read/metrics.js'
