import {Args, Flags} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {crcHex} from '../core/crc.js'
import {scanWal} from '../core/scan.js'

export interface DumpRecordJson {
  segment: number
  offset: number
  length: number
  crc32: string
  valid: true
  data: string
}

export default class Dump extends WalCommand {
  static summary = 'Print the records of a WAL directory or a single segment file.'
  static description = 'Reads only: opens nothing for writing and changes no byte or mtime.'
  static examples = ['<%= config.bin %> <%= command.id %> ./wal --format jsonl']
  static args = {
    path: Args.string({name: 'PATH', required: true, description: 'WAL directory, Shardex index root, or a single segment file'}),
  }
  static flags = {
    format: Flags.string({description: 'output format', options: ['jsonl'], default: 'jsonl'}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Dump)
    let out = ''
    scanWal(args.path, {
      onRecord: (segment, buf, offset, length, crc) => {
        const rec: DumpRecordJson = {segment, offset, length, crc32: crcHex(crc), valid: true, data: buf.toString('hex', offset + 8, offset + 8 + length)}
        out += JSON.stringify(rec) + '\n'
        if (out.length > 1 << 20) {
          process.stdout.write(out)
          out = ''
        }
      },
    })
    process.stdout.write(out)
  }
}
