import {Args} from '@oclif/core'
import {jsonFlag} from '../cli/args.js'
import {WalCommand} from '../cli/base.js'
import {renderExplanation} from '../cli/render-explain.js'
import {explainShardexError, Explanation} from '../core/explain/explain.js'

export default class Explain extends WalCommand {
  static summary = "Explain a Shardex WAL error: its segment and offset, what walctl sees there, the repair."
  static description = `Shardex reports WAL damage by byte offset in the segment it opened ("Corrupted record found at position 811 during recovery", "Failed to recover latest segment 3: ..."), by header field ("Creation timestamp ... is in the future", "Magic bytes mismatch", "Invalid header size ...") or by size ("Segment full ...", "Segment size mismatch ..."). explain reads the WAL (read-only, like verify), names the segment file and byte offset the message means (the newest segment unless the message names one: Shardex opens only the newest at start-up), shows what walctl's scan finds there, and prints the commands that repair it. Paste the whole message, prefixes and all.

Exit codes: 0 explained; 64 the message is none walctl knows (the refusal lists those it does); 66 no such WAL.`
  static examples = [
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index "Corrupted record found at position 811 during recovery"',
    '<%= config.bin %> <%= command.id %> ./wal "Write-ahead log error: Failed to recover latest segment 3: Index corruption detected: Creation timestamp 1893456000000000 is in the future"',
    '<%= config.bin %> <%= command.id %> ./wal "$(journalctl -u shardex -n 1 -o cat)" --json',
  ]
  static exitCodes = {
    0: 'explained (whatever the WAL\'s verdict: the answer says it)',
    64: 'not a Shardex WAL error message walctl knows (the refusal lists those it does)',
    66: 'no such WAL directory or file, no segments',
    74: '',
  }
  static flags = {
    json: jsonFlag('the explanation: segment, offset, what walctl sees there, the verdict and the repair commands'),
  }
  static args = {
    dir: Args.string({name: 'DIR', required: true, description: 'the WAL directory, Shardex index root or segment file Shardex complained about'}),
    message: Args.string({name: 'MESSAGE', required: true, description: "Shardex's error message, quoted as one argument"}),
  }

  async run(): Promise<Explanation> {
    const {args} = await this.parse(Explain)
    const e = explainShardexError(args.dir, args.message)
    if (!this.jsonEnabled()) process.stdout.write(renderExplanation(e))
    return e
  }
}
