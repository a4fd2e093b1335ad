// Flags the archive commands share (archive, restore, verify of an archive target).
import {Flags} from '@oclif/core'
import {sizeFlagValue} from './args.js'
import {ExitCode, WalError} from '../core/errors.js'
import {MIN_PART_SIZE} from '../core/archive/store.js'

export const endpointFlag = Flags.string({
  description: 'for an s3:// target: the URL of an S3-compatible service (MinIO, Ceph RGW, R2...); credentials and region as the AWS CLI reads them',
  helpValue: 'URL',
})

export function partSizeValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const size = sizeFlagValue(text, 'part-size')
  if (size < MIN_PART_SIZE) throw new WalError(ExitCode.USAGE, `--part-size ${text}: S3 takes parts of at least 5 MiB`)
  return size
}
