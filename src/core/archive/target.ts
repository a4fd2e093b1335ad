// Archive targets named on the command line: `file:///path` (or a plain path:
// a local or mounted directory) and `s3://bucket/prefix`.
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {ExitCode, WalError} from '../errors.js'
import type {S3Options} from './s3-store.js'
import {ArchiveStore} from './store.js'

export type ArchiveTarget = {kind: 'file'; url: string; dir: string} | {kind: 's3'; url: string; bucket: string; prefix: string}

/** True when `text` names an archive rather than a WAL: it has a file:// or s3:// scheme. */
export function isArchiveUrl(text: string): boolean {
  return /^(file|s3):\/\//i.test(text)
}

export function parseTarget(text: string): ArchiveTarget {
  const t = text.trim()
  if (/^s3:\/\//i.test(t)) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/i.exec(t)
    if (!m) throw new WalError(ExitCode.USAGE, `invalid S3 target '${text}': expected s3://BUCKET/PREFIX (a bucket name of 3 to 63 letters, digits, dots and hyphens)`)
    const prefix = (m[2] ?? '').replace(/\/+$/, '')
    if (prefix.split('/').some((p) => p === '..' || p === '.')) throw new WalError(ExitCode.USAGE, `invalid S3 target '${text}': the prefix may not hold . or .. parts`)
    return {kind: 's3', url: `s3://${m[1]}${prefix ? `/${prefix}` : ''}`, bucket: m[1], prefix}
  }
  if (/^file:\/\//i.test(t)) {
    let dir: string
    try {
      dir = fileURLToPath(t)
    } catch {
      throw new WalError(ExitCode.USAGE, `invalid file target '${text}': expected file:///ABSOLUTE/PATH`)
    }
    return {kind: 'file', url: `file://${dir}`, dir}
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) throw new WalError(ExitCode.USAGE, `unsupported archive target '${text}': use file:///PATH or s3://BUCKET/PREFIX`)
  const dir = path.resolve(t)
  return {kind: 'file', url: `file://${dir}`, dir}
}

export interface OpenTargetOptions extends Partial<S3Options> {
  /** Make a missing archive directory (archive does; restore and verify do not). */
  create?: boolean
}

export async function openTarget(target: ArchiveTarget, options: OpenTargetOptions = {}): Promise<ArchiveStore> {
  // Each store is loaded only when named: the SDK is large, and the file store brings node:crypto (digests),
  // which a verify of a WAL directory, the usual case, never needs.
  if (target.kind === 'file') return (await import('./file-store.js')).FileStore.open(target.dir, target.url, options.create ?? false)
  const {S3Store} = await import('./s3-store.js')
  return S3Store.open(target.url, target.bucket, target.prefix, {partSize: options.partSize ?? 16 * 1024 * 1024, concurrency: options.concurrency ?? 2, endpoint: options.endpoint})
}
