import * as fs from 'node:fs'
import {Flags} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {jsonFlag, quietFlag, reportLevel, walDirArg} from '../cli/args.js'
import {prometheusFlag, withVerifyMetrics} from '../cli/prometheus.js'
import {startWalProgress} from '../cli/progress.js'
import {renderVerify} from '../cli/render-verify.js'
import {ExitCode, WalError} from '../core/errors.js'
import {VerifyReport} from '../core/read/verify.js'
import {verifyWalParallel} from '../core/read/parallel-verify.js'
import {endpointFlag} from '../cli/archive-flags.js'
import {renderArchiveVerify} from '../cli/render-archive.js'
import {isArchiveUrl, openTarget, parseTarget} from '../core/archive/target.js'
import type {ArchiveVerifyReport} from '../core/archive/verify-archive.js'

export default class Verify extends WalCommand {
  static summary = 'Check every segment and record; exit 0 clean, 1 repairable, 2 damaged.'
  static description = `Reads every segment (never writes, never changes an mtime) and reports each problem with its segment, byte offset, kind and cost. The verdict: clean (exit 0); repairable (exit 1), every problem can be removed without dropping a complete record, as 'walctl recover' does; damaged (exit 2), a complete record would be lost or is hidden behind damage, a header is broken or a segment is missing.

Output: one line per problem, then the verdict with the totals; a clean WAL is that one line. --verbose adds a line per segment first (records, records found past damage, and how often the newest segment's tail was re-read because a writer might have been mid-record). --quiet prints nothing; --json the whole report. The three cannot be combined.`
  static examples = [
    '<%= config.bin %> <%= command.id %> ./wal',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --json',
    '<%= config.bin %> <%= command.id %> ./wal --quiet || echo "WAL needs attention"',
    '<%= config.bin %> <%= command.id %> /var/lib/shardex/index --quiet --prometheus /var/lib/node_exporter/textfile/walctl.prom',
  ]
  static exitCodes = {
    0: 'the WAL is clean',
    1: 'repairable damage: walctl recover removes it without losing a complete record',
    2: 'damaged: a complete record lost or hidden, a broken header, a missing segment',
    64: '',
    66: 'no such directory or file, no segments, permission denied',
    73: '--prometheus: the metrics file cannot be written',
    74: '',
  }
  static args = {dir: walDirArg}
  static flags = {
    json: jsonFlag('the report (verdict, every segment and problem, the totals)'),
    quiet: quietFlag,
    verbose: Flags.boolean({description: 'also a line per segment, with its records and tail re-reads'}),
    prometheus: prometheusFlag,
    jobs: Flags.integer({description: 'scan segments on up to N threads at once (1: one thread); a WAL of under 256 MiB is scanned on one', min: 1, max: 64, helpValue: 'N'}),
    deep: Flags.boolean({description: 'for an archive target: download every object, compare its checksums with the manifest and verify every record'}),
    endpoint: endpointFlag,
  }

  async run(): Promise<VerifyReport | ArchiveVerifyReport> {
    const {args, flags} = await this.parse(Verify)
    const level = reportLevel(flags, this.jsonEnabled())
    if (isArchiveUrl(args.dir)) return this.verifyArchiveTarget(args.dir, flags)
    if (flags.deep) this.fail(ExitCode.USAGE, '--deep applies to an archive target (file:// or s3://); a WAL directory is always read in full')
    const progress = startWalProgress('verify', args.dir, this.jsonEnabled() || level === 'quiet')
    let report: VerifyReport
    try {
      report = await withVerifyMetrics(args.dir, flags.prometheus, async () => {
        const r = await verifyWalParallel(args.dir, {jobs: flags.jobs, onSegmentDone: (size) => progress.advance(size, 1)})
        if (r.segments.length === 0 && r.problems.some((p) => p.kind === 'no-segments')) {
          throw new WalError(ExitCode.NO_INPUT, 'no WAL segments (wal_NNNNNN.log) here', {file: r.dir})
        }
        return r
      })
    } finally {
      progress.finish()
    }
    process.exitCode = report.exitCode
    // A lone file is evidence, not a WAL to repair: no recover of the directory holding it is suggested.
    const suggestRecover = !isFile(args.dir)
    if (level !== 'quiet' && !this.jsonEnabled()) process.stdout.write(renderVerify(report, undefined, {verbose: level === 'verbose', suggestRecover}))
    return report
  }

  private async verifyArchiveTarget(text: string, flags: {deep: boolean; quiet?: boolean; endpoint?: string; prometheus?: string}): Promise<ArchiveVerifyReport> {
    if (flags.prometheus !== undefined) this.fail(ExitCode.USAGE, '--prometheus applies to a WAL directory; for an archive, use walctl archive --prometheus')
    const store = await openTarget(parseTarget(text), {endpoint: flags.endpoint})
    try {
      // Loaded here only: archives are checked through digests (node:crypto), a WAL directory never is.
      const {verifyArchive} = await import('../core/archive/verify-archive.js')
      const report = await verifyArchive(store, {deep: flags.deep})
      process.exitCode = report.exitCode
      if (!flags.quiet && !this.jsonEnabled()) process.stdout.write(renderArchiveVerify(report))
      return report
    } finally {
      await store.close()
    }
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}
