import {Args, Flags, Interfaces} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {jsonFlag, refuseIneffective, walDirArg} from '../cli/args.js'
import {ExitCode, WalError} from '../core/errors.js'
import {formatPositionLines, GroupCommitter} from '../core/write/group-commit.js'
import {interruption} from '../core/interrupt.js'
import {INPUT_FORMATS, InputFormat, RecordSplitter, stdinChunks} from '../core/input/input.js'
import {readRecordFile} from '../core/input/file.js'
import {RecordLimit, stoppedReason, tooLargeReason} from '../core/input/limit.js'
import {WalManager} from '../core/write/manager.js'
import {resolveWalDir} from '../core/read/directory.js'
import {lockWal, waitFlag} from '../cli/lock.js'
import {formatPosition, Position} from '../core/format/names.js'

export interface AppendResult {
  dir: string
  records: number
  synced: boolean
  first: string | null
  last: string | null
  positions: string[]
}

type AppendFlags = Interfaces.InferredFlags<typeof Append.flags>

export default class Append extends WalCommand {
  static summary = 'Append records; print each one\'s position once it is durable.'
  static description = `Each DATA argument is one record (its UTF-8 bytes); --file adds a whole file as one record; --stdin reads records from standard input (in that order when combined). Records are appended to the newest segment, rotating to a new one when a record does not fit; a record never spans segments.

A record is at most the largest payload a segment holds. Every source stops reading a record one byte past that limit and exits 65 naming the limit and the source, so /dev/zero or an endless line costs a moment and little memory. --file reads regular files, pipes and FIFOs (--file <(cmd)) and character devices, following symbolic links; a FIFO is opened without waiting for a writer, and one with no writer attached reads as empty (exit 65); a directory is exit 66. DATA and --file are read and checked after the WAL is opened and locked, before the first byte is written: when one is refused, nothing is appended. A hex or base64 line that does not decode is exit 65 naming its line and column.

Group commit: one msync per batch of at most --batch-records records or --batch-ms milliseconds while streaming. Each record's position (SEGMENT:OFFSET, the offset of its record header) is printed only after its batch is synced, one per line, in input order. A bad input line stops the stream: the records before it are synced and printed, nothing after it is written, and the error names the line.

The WAL's writer lock is held from before the write pointer is recovered until the last sync (for --stdin, until standard input ends): another walctl writer fails at once with exit 75 naming the holder, or waits with --wait SECONDS. A lock left by a writer that died (same host, pid gone) is taken over, with a note on stderr.`
  static examples = [
    '<%= config.bin %> <%= command.id %> ./wal "first record" "second record"',
    '<%= config.bin %> <%= command.id %> ./wal --file snapshot.bin',
    'seq 1 100000 | <%= config.bin %> <%= command.id %> ./wal --stdin',
    'xxd -p -c0 blobs.bin | <%= config.bin %> <%= command.id %> ./wal --stdin --input hex',
  ]
  static strict = false
  static exitCodes = {
    0: 'every record was appended (and synced, unless --no-sync); the positions are printed',
    64: 'nothing to append, an unknown flag, a bad value',
    65: 'an empty or oversized record, a malformed input line, a damaged newest segment',
    66: 'no such directory, no segments, a --file that cannot be read',
    73: 'a new segment cannot be created',
    74: '',
    75: 'another walctl writer holds the WAL\'s lock',
    129: '',
    130: '',
    143: '',
  }
  static args = {
    dir: walDirArg,
    data: Args.string({name: 'DATA', required: false, ignoreStdin: true, description: 'a record: its UTF-8 bytes (any number of them)'}),
  }
  static flags = {
    json: jsonFlag('the count and positions of the records appended'),
    file: Flags.string({description: 'append the whole file as one record (repeatable)', multiple: true, helpValue: 'PATH'}),
    stdin: Flags.boolean({description: 'read records from standard input'}),
    input: Flags.string({
      description: 'with --stdin: how standard input holds records: lines (one per line, newline removed), hex or base64 (one encoded record per line), raw (all of it as one record)',
      options: [...INPUT_FORMATS],
      default: 'lines',
    }),
    'skip-empty': Flags.boolean({description: 'with --stdin: skip empty input lines instead of failing on them'}),
    'batch-records': Flags.integer({helpValue: 'N', description: 'sync after at most this many records', default: 65_536, min: 1}),
    'batch-ms': Flags.integer({helpValue: 'MS', description: 'with --stdin: sync at most this many milliseconds after the first unsynced record', default: 100, min: 0}),
    'no-sync': Flags.boolean({description: 'skip msync: positions are printed when written to the mapping, not when durable; a crash of the machine may lose them'}),
    wait: waitFlag,
  }

  async run(): Promise<AppendResult> {
    const {args, argv, flags, metadata} = await this.parse(Append)
    refuseIneffective(flags, metadata, ['input', 'skip-empty', 'batch-ms'], !flags.stdin, 'without --stdin: they describe and pace standard input')
    const data = (argv as string[]).slice(1)
    const files = flags.file ?? []
    if (data.length === 0 && files.length === 0 && !flags.stdin) {
      this.fail(ExitCode.USAGE, 'nothing to append: give DATA arguments, --file PATH or --stdin')
    }
    data.forEach((text, i) => {
      if (text.length === 0) this.fail(ExitCode.DATA, `argument ${i + 1} is empty: a record cannot be empty`)
    })

    // The writer lock is held from before the write pointer is recovered until the last sync.
    const dir = resolveWalDir(args.dir)
    const lock = await lockWal(dir, flags.wait)
    try {
      return await this.appendLocked(dir, data, files, flags)
    } finally {
      lock.release()
    }
  }

  private async appendLocked(walDir: string, data: string[], files: string[], flags: AppendFlags): Promise<AppendResult> {
    const manager = WalManager.open(walDir)
    const limit: RecordLimit = {max: manager.maxPayload, segmentSize: manager.segmentSize}
    let upfront: Buffer[]
    try {
      // Open (and check) the segment that takes the appends before judging any record against it.
      manager.current()
      upfront = await readUpfront(data, files, limit)
    } catch (error) {
      manager.close()
      throw error
    }

    const json = this.jsonEnabled()
    const positions: string[] = []
    let first: Position | undefined
    let last: Position | undefined
    const out = new StdoutWriter()
    const committer = new GroupCommitter(manager, {
      maxRecords: flags['batch-records'],
      maxDelayMs: flags['batch-ms'],
      sync: !flags['no-sync'],
      onCommit: (segs, offs, n) => {
        if (!first) first = {segment: segs[0], offset: offs[0]}
        last = {segment: segs[n - 1], offset: offs[n - 1]}
        if (json) {
          for (let i = 0; i < n; i++) positions.push(`${segs[i]}:${offs[i]}`)
        } else {
          out.write(formatPositionLines(segs, offs, n))
        }
      },
    })
    try {
      for (const record of upfront) committer.add(record)
      if (flags.stdin) {
        const splitter = new RecordSplitter(
          {
            format: flags.input as InputFormat,
            skipEmpty: flags['skip-empty'],
            limit,
            // Lines go straight from the input chunk into the segment: no object per record.
            onRange: (buf, start, end) => committer.addRange(buf, start, end),
          },
          (record) => committer.add(record),
        )
        // A signal ends the stream between two chunks, or at once while waiting for one.
        const stop = interruption('stopped reading standard input; every position printed is durable and the lock is released')
        const chunks = stdinChunks()[Symbol.asyncIterator]()
        let ended = false
        try {
          for (let next = await Promise.race([chunks.next(), stop.promise]); !next.done; next = await Promise.race([chunks.next(), stop.promise])) {
            splitter.push(next.value)
          }
          ended = true
        } finally {
          stop.cancel()
          // Stopped early: let go of standard input, or its open pipe keeps the process alive.
          if (!ended) void chunks.return?.()
        }
        splitter.end()
      }
      committer.commit()
    } catch (error) {
      // Whatever was appended before the bad input is made durable and acknowledged.
      try {
        committer.commit()
      } finally {
        manager.close()
      }
      await out.flush()
      const count = committer.total
      if (error instanceof WalError && count > 0) {
        throw new WalError(error.exitCode, `${error.message}; ${count} record(s) before it were appended and synced, the last at ${last ? formatPosition(last) : '?'}`)
      }
      throw error
    }
    manager.close()
    await out.flush()
    // A rotation that could not give the new segment the WAL's owner or mode says so.
    for (const w of manager.warnings) process.stderr.write(`walctl: ${w}\n`)
    if (!json && flags['no-sync']) this.note(`walctl: ${committer.total} record(s) appended without msync (--no-sync): not yet durable`)
    return {
      dir: manager.dir,
      records: committer.total,
      synced: !flags['no-sync'],
      first: first ? formatPosition(first) : null,
      last: last ? formatPosition(last) : null,
      positions,
    }
  }
}

/**
 * Everything but the stream is read and checked before the first byte is
 * written; a file is read no further than one byte past the limit.
 */
async function readUpfront(data: string[], files: string[], limit: RecordLimit): Promise<Buffer[]> {
  const refuse = (reason: string, file?: string): never => {
    throw new WalError(ExitCode.DATA, `${reason}; nothing was appended`, {file})
  }
  const records: Buffer[] = data.map((text, i) => {
    const record = Buffer.from(text, 'utf8')
    if (record.length > limit.max) refuse(`argument ${i + 1}: ${tooLargeReason(limit, record.length)}`)
    return record
  })
  for (const file of files) {
    const read = await readRecordFile(file, limit.max)
    if (read.tooLarge) {
      const {length, exact} = read.tooLarge
      refuse(exact ? tooLargeReason(limit, length) : stoppedReason(limit, length), file)
    } else if (read.data.length === 0) {
      const why = read.regular ? '' : ' (a FIFO with no writer reads as empty)'
      throw new WalError(ExitCode.DATA, `file is empty${why}: a record cannot be empty`, {file})
    } else {
      records.push(read.data)
    }
  }
  return records
}

/** Buffers stdout writes and keeps going quietly when the reader has gone away. */
class StdoutWriter {
  private closed = false
  private pending: Promise<void> = Promise.resolve()

  constructor() {
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.closed = true
      else throw error
    })
  }

  write(text: string | Buffer): void {
    if (this.closed || text.length === 0) return
    if (!process.stdout.write(text)) {
      this.pending = new Promise((resolve) => process.stdout.once('drain', resolve))
    }
  }

  async flush(): Promise<void> {
    await this.pending
  }
}
