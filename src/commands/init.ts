import * as fs from 'node:fs'
import * as path from 'node:path'
import {Flags} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {jsonFlag, quietFlag, reportLevel, sizeFlagValue, walDirArg} from '../cli/args.js'
import {lockWal, waitFlag} from '../cli/lock.js'
import {resolveWalDir} from '../core/read/directory.js'
import {escapeName} from '../core/fs/quote.js'
import {DEFAULT_SEGMENT_SIZE} from '../core/format/format.js'
import {makeWalDir, WalManager} from '../core/write/manager.js'
import {checkSegmentSize} from '../core/write/segment.js'

export interface InitResult {
  dir: string
  segmentSize: number
  segment: {id: number; file: string}
}

export default class Init extends WalCommand {
  static summary = 'Create a new WAL with its first, preallocated segment.'
  static description = `Creates DIR if it does not exist and writes wal_000001.log, preallocated to the segment size, atomically (temporary file, fsync, rename, fsync of the directory). Refuses a directory that already holds segments. Given a Shardex index root holding wal/, the segment goes into wal/. Takes the WAL's writer lock while it writes: exit 75 at once while another walctl writer holds it, unless --wait SECONDS.`
  static examples = [
    '<%= config.bin %> <%= command.id %> /var/lib/app/wal',
    '<%= config.bin %> <%= command.id %> ./wal --segment-size 64MiB',
  ]
  static exitCodes = {
    0: 'the WAL was created',
    64: 'a bad --segment-size or --wait, an unknown flag',
    73: 'DIR already holds segments, or it or the segment cannot be created',
    74: '',
    75: 'another walctl writer holds the WAL\'s lock',
    129: '',
    130: '',
    143: '',
  }
  static args = {dir: walDirArg}
  static flags = {
    json: jsonFlag('the new WAL (directory, segment size, first segment)'),
    quiet: quietFlag,
    'segment-size': Flags.string({
      helpValue: 'SIZE',
      description: 'size of every segment file: bytes or a binary unit (4096, 64KiB, 1MiB, 1M); at least 98 bytes, at most 1GiB',
      default: String(DEFAULT_SEGMENT_SIZE),
    }),
    wait: waitFlag,
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(Init)
    const level = reportLevel(flags, this.jsonEnabled())
    const segmentSize = sizeFlagValue(flags['segment-size'], 'segment-size')
    checkSegmentSize(segmentSize)
    // The lock lives in the directory, so it must exist first; two inits of one new WAL then meet at the lock.
    const dir = walDirToCreate(args.dir)
    const lock = await lockWal(dir, flags.wait)
    let result: InitResult
    try {
      const manager = WalManager.init(dir, {segmentSize})
      const seg = manager.current()
      result = {dir: manager.dir, segmentSize, segment: {id: seg.id, file: seg.path}}
      manager.close()
    } finally {
      lock.release()
    }
    if (level !== 'quiet') this.log(`created ${escapeName(result.segment.file)} (${segmentSize} bytes)`)
    return result
  }
}

/** The WAL directory `init` writes into, made (with its parents) when missing. */
function walDirToCreate(input: string): string {
  const abs = path.resolve(input)
  // Made with an explicit mode (0755 within the umask): never group- or world-writable, even under umask 000.
  if (!fs.existsSync(abs)) makeWalDir(abs)
  return resolveWalDir(abs)
}
