import {WalCommand} from '../cli/base.js'
import {jsonFlag, quietFlag, reportLevel, walDirArg} from '../cli/args.js'
import {lockWal, waitFlag} from '../cli/lock.js'
import {resolveWalDir} from '../core/read/directory.js'
import * as path from 'node:path'
import {WalError} from '../core/errors.js'
import {WalManager} from '../core/write/manager.js'

export interface RotateResult {
  dir: string
  previous: number
  segment: number
  file: string
}

export default class Rotate extends WalCommand {
  static summary = 'Start the next segment now, even if the current one is not full.'
  static description = 'Syncs the current segment and creates the next one (highest id + 1), preallocated and atomically. Prints the new segment id (nothing with --quiet). Takes the WAL\'s writer lock while it writes: exit 75 at once while another walctl writer holds it, unless --wait SECONDS.'
  static examples = ['<%= config.bin %> <%= command.id %> ./wal']
  static exitCodes = {
    0: 'the next segment was created; its id is printed',
    64: '',
    65: 'the newest segment is damaged: walctl recover first',
    66: 'no such directory, no segments',
    73: 'the new segment cannot be created',
    74: '',
    75: 'another walctl writer holds the WAL\'s lock',
    129: '',
    130: '',
    143: '',
  }
  static args = {dir: walDirArg}
  static flags = {
    json: jsonFlag('the previous and the new segment'),
    quiet: quietFlag,
    wait: waitFlag,
  }

  async run(): Promise<RotateResult> {
    const {args, flags} = await this.parse(Rotate)
    const level = reportLevel(flags, this.jsonEnabled())
    const dir = resolveWalDir(args.dir)
    const lock = await lockWal(dir, flags.wait)
    try {
      const manager = WalManager.open(dir)
      const current = manager.current()
      const previous = current.id
      let id: number
      try {
        id = manager.rotate()
      } catch (error) {
        // A full disk while the next segment is made: its temporary is gone, the current segment is as it was.
        if (!(error instanceof WalError)) throw error
        throw new WalError(error.exitCode, `${error.message}; no segment was created: the newest is still ${path.basename(current.path)}, its last durable record ending at offset ${current.writePointer}`)
      }
      const file = manager.current().path
      manager.close()
      for (const w of manager.warnings) process.stderr.write(`walctl: ${w}\n`)
      if (level !== 'quiet') this.log(String(id))
      return {dir: manager.dir, previous, segment: id, file}
    } finally {
      lock.release()
    }
  }
}
