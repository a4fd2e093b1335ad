// npm run power-loss [-- [--multi] TRIALS [FIRST_SEED]]: runs the power-loss
// trials of test/crash-power.test.ts at scale and prints the counts: the
// single-segment trials (10,000 by default), or with --multi the trials over
// rotating 1 MiB segments sealed in the background (1,000 by default).
// Exits 1 if a synced record was lost, a record appeared that was never
// appended, or a recovered WAL did not verify clean.
import {multiSegmentPowerLossTrials, MultiPowerLossTotals, PowerLossTotals, powerLossTrials} from '../test/helpers/corrupt.js'

const args = process.argv.slice(2)
const multi = args[0] === '--multi'
if (multi) args.shift()
const trials = Number(args[0] ?? (multi ? 1000 : 10_000))
const firstSeed = Number(args[1] ?? 1)
if (!Number.isSafeInteger(trials) || trials < 1 || !Number.isSafeInteger(firstSeed) || args.length > 2) {
  process.stderr.write('usage: npm run power-loss -- [--multi] [TRIALS] [FIRST_SEED]\n')
  process.exit(64)
}
const started = Date.now()
const t: PowerLossTotals = multi ? multiSegmentPowerLossTrials(trials, firstSeed) : powerLossTrials(trials, firstSeed)
const counts = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ')
const lines = [
  `trials:                         ${t.trials} (seeds ${firstSeed}..${firstSeed + trials - 1}${multi ? ', multi-segment' : ''})`,
  `records appended:               ${t.appended}`,
  `records acknowledged as synced: ${t.synced}`,
  `records after recover:          ${t.survived}`,
  `images with a torn page:        ${t.torn}`,
]
if (multi) {
  const m = t as MultiPowerLossTotals
  lines.push(
    `syncs:                          ${m.syncs}`,
    `trials by rotations:            ${counts(m.rotations)}`,
    `unacknowledged seals at a cut:  ${m.unackedSeals} in ${m.withUnackedSeals} trials`,
    `segments made since the sync:   ${m.absent} name lost, ${m.headerOnly} header only, ${m.partial} some pages`,
  )
}
lines.push(
  `verdicts before recover:        ${counts(t.verdicts)}`,
  `recover modes used:             ${counts(t.modes)}`,
  `synced records lost:            ${t.lostSynced}`,
  `records never appended:         ${t.neverAppended}`,
  `not clean after recover:        ${t.notClean}`,
  `time:                           ${((Date.now() - started) / 1000).toFixed(1)} s`,
)
process.stdout.write(lines.join('\n') + '\n')
for (const f of t.failures.slice(0, 20)) process.stdout.write(`FAILED seed ${f.seed}: ${JSON.stringify(f)}\n`)
process.exit(t.lostSynced + t.neverAppended + t.notClean === 0 ? 0 : 1)
