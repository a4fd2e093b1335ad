// Power loss: appends and syncs through the core, then the on-disk image a
// power cut could leave (the last synced image plus any subset of the pages
// written since, one possibly torn), recovered and checked: every synced
// record is there intact and in order, nothing is there that was not
// appended, and the WAL verifies clean. `npm run power-loss` runs 10,000.
import test from 'ava'
import {powerLossTrials} from './helpers/corrupt.js'

test('1,000 random power cuts: no synced record lost, nothing invented, clean after recover', (t) => {
  const totals = powerLossTrials(1000, 1)
  t.log(`appended ${totals.appended}, synced ${totals.synced}, survived ${totals.survived}, torn pages ${totals.torn}, verdicts ${JSON.stringify(totals.verdicts)}, modes ${JSON.stringify(totals.modes)}`)
  t.deepEqual(totals.failures.slice(0, 5), [], 'failing seeds are listed here')
  t.is(totals.lostSynced, 0)
  t.is(totals.neverAppended, 0)
  t.is(totals.notClean, 0)
  // The trials must exercise every path, or they prove little.
  t.true(totals.synced > 0 && totals.survived > totals.synced, 'unsynced records sometimes survive')
  t.true((totals.verdicts.clean ?? 0) > 0 && (totals.verdicts.repairable ?? 0) > 0 && (totals.verdicts.damaged ?? 0) > 0, JSON.stringify(totals.verdicts))
  t.true(totals.torn > 0)
})
