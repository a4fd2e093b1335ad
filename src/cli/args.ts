// Arguments and flags several commands share, and their parsing.
import {Args} from '@oclif/core'
import {ExitCode, WalError} from '../core/errors.js'
import {parsePosition, Position} from '../core/names.js'
import {parseSize} from '../core/units.js'

export const walDirArg = Args.string({
  name: 'DIR',
  required: true,
  description: 'WAL directory holding wal_NNNNNN.log segments, or a Shardex index root holding wal/',
})

export function sizeFlagValue(text: string, flag: string): number {
  const size = parseSize(text)
  if (size === undefined) throw new WalError(ExitCode.USAGE, `invalid size '${text}' for --${flag}: give bytes or a binary unit, e.g. 4096, 64KiB, 1MiB, 1M`)
  return size
}

export function positionValue(text: string, flag: string): Position {
  const pos = parsePosition(text)
  if (!pos) throw new WalError(ExitCode.USAGE, `invalid position '${text}' for --${flag}: expected SEGMENT:OFFSET in decimal, e.g. 3:89`)
  return pos
}
