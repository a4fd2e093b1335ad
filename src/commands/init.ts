import {Flags} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {sizeFlagValue, walDirArg} from '../cli/args.js'
import {DEFAULT_SEGMENT_SIZE} from '../core/format.js'
import {WalManager} from '../core/manager.js'

export interface InitResult {
  dir: string
  segmentSize: number
  segment: {id: number; file: string}
}

export default class Init extends WalCommand {
  static summary = 'Create a new WAL with its first, preallocated segment.'
  static description = `Creates DIR if it does not exist and writes wal_000001.log, preallocated to the segment size, atomically (temporary file, fsync, rename, fsync of the directory). Refuses a directory that already holds segments. Given a Shardex index root holding wal/, the segment goes into wal/.`
  static examples = [
    '<%= config.bin %> <%= command.id %> /var/lib/app/wal',
    '<%= config.bin %> <%= command.id %> ./wal --segment-size 64MiB',
  ]
  static args = {dir: walDirArg}
  static flags = {
    'segment-size': Flags.string({
      char: 's',
      description: 'size of every segment file: bytes or a binary unit (4096, 64KiB, 1MiB, 1M); at least 98 bytes, at most 1GiB',
      default: String(DEFAULT_SEGMENT_SIZE),
    }),
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(Init)
    const segmentSize = sizeFlagValue(flags['segment-size'], 'segment-size')
    const manager = WalManager.init(args.dir, {segmentSize})
    const seg = manager.current()
    const result: InitResult = {dir: manager.dir, segmentSize, segment: {id: seg.id, file: seg.path}}
    manager.close()
    this.log(`created ${seg.path} (${segmentSize} bytes)`)
    return result
  }
}
