// The library API: what `import ... from 'walctl'` gives. The commands are thin
// layers over these same functions; nothing here prints or exits.

export {WalManager} from './core/manager.js'
export type {InitOptions} from './core/manager.js'
export {WalSegment, checkSegmentSize} from './core/segment.js'
export type {OpenSegmentOptions} from './core/segment.js'

export {scanWal, scanWal as scan, scanWalAsync, missingSegmentIds, nominalSegmentSize} from './core/scan.js'
export type {
  Problem, ProblemKind, RecordPayload, SegmentSummary, Severity, Verdict, WalScanOptions, WalScanResult, WalScanVisitor,
} from './core/scan.js'
export {verifyWal, verifyWal as verify, verifyWalAsync, VERDICT_EXIT} from './core/verify.js'
export type {VerifyReport} from './core/verify.js'
export {recoverWal, recoverWal as recover, RECOVER_MODES} from './core/recover.js'
export type {ActionReport, ModeSummary, RecoverMode, RecoverOptions, RecoverResult} from './core/recover.js'

export {collectGarbage, collectGarbage as gc} from './core/gc.js'
export type {GcOptions, GcPolicy, GcResult, GcSegment} from './core/gc.js'
export {
  acquireWriterLock, tryAcquireWriterLock, readLockHolder, describeHolder, describeTakeover, LockedError, WriterLock, LOCK_FILE, LOCK_MUTEX,
} from './core/lock.js'
export type {AcquireOptions, LockHolder, Takeover, TakeoverReason} from './core/lock.js'

export {ExitCode, WalError, CorruptionError} from './core/errors.js'
export type {ExitCodeValue, WalErrorOptions} from './core/errors.js'

export {
  DEFAULT_SEGMENT_SIZE, FIRST_RECORD_OFFSET, HEADER_SIZE, MAGIC, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE,
  RECORD_HEADER_SIZE, VERSION, decodeHeader, maxPayloadSize, recordSize,
} from './core/format.js'
export type {SegmentHeader} from './core/format.js'
export {formatPosition, parsePosition, comparePositions, parseSegmentFileName, segmentFileName} from './core/names.js'
export type {Position} from './core/names.js'
export {listWal, resolveWalDir} from './core/directory.js'
export type {SegmentFile, StrayFile, WalListing} from './core/directory.js'
export {crc32} from './core/crc.js'

export {verifyMetrics, renderMetrics, writeMetricsFile} from './core/metrics.js'
export type {VerifyMetrics} from './core/metrics.js'
