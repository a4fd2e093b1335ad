// Flags the archive commands share (archive, restore, verify of an archive target).
import {Flags} from '@oclif/core'
import {sizeFlagValue} from './args.js'
import {ExitCode, WalError} from '../core/errors.js'
import {MIN_PART_SIZE} from '../core/archive/store.js'

export const endpointFlag = Flags.string({
  description: 'S3-compatible endpoint URL for an s3:// target (MinIO, Ceph RGW, R2...); default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS S3 itself. Region and credentials come from the standard AWS environment variables and shared config files',
  helpValue: 'URL',
})

export function partSizeValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const size = sizeFlagValue(text, 'part-size')
  if (size < MIN_PART_SIZE) throw new WalError(ExitCode.USAGE, `--part-size ${text}: S3 takes parts of at least 5 MiB`)
  return size
}
