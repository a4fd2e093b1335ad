// npm run power-loss [-- TRIALS [FIRST_SEED]]: runs the power-loss trials of
// test/crash-power.test.ts at scale (10,000 by default) and prints the counts.
// Exits 1 if a synced record was lost, a record appeared that was never
// appended, or a recovered WAL did not verify clean.
import {powerLossTrials} from '../test/helpers/corrupt.js'

const trials = Number(process.argv[2] ?? 10_000)
const firstSeed = Number(process.argv[3] ?? 1)
if (!Number.isSafeInteger(trials) || trials < 1 || !Number.isSafeInteger(firstSeed)) {
  process.stderr.write('usage: npm run power-loss -- [TRIALS] [FIRST_SEED]\n')
  process.exit(64)
}
const started = Date.now()
const t = powerLossTrials(trials, firstSeed)
const lines = [
  `trials:                         ${t.trials} (seeds ${firstSeed}..${firstSeed + trials - 1})`,
  `records appended:               ${t.appended}`,
  `records acknowledged as synced: ${t.synced}`,
  `records after recover:          ${t.survived}`,
  `images with a torn page:        ${t.torn}`,
  `verdicts before recover:        ${Object.entries(t.verdicts).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  `recover modes used:             ${Object.entries(t.modes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  `synced records lost:            ${t.lostSynced}`,
  `records never appended:         ${t.neverAppended}`,
  `not clean after recover:        ${t.notClean}`,
  `time:                           ${((Date.now() - started) / 1000).toFixed(1)} s`,
]
process.stdout.write(lines.join('\n') + '\n')
for (const f of t.failures.slice(0, 20)) process.stdout.write(`FAILED seed ${f.seed}: ${JSON.stringify(f)}\n`)
process.exit(t.lostSynced + t.neverAppended + t.notClean === 0 ? 0 : 1)
