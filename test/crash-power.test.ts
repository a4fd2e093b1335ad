// Power loss: appends and syncs through the core, then the on-disk image a
// power cut could leave (the last synced image plus any subset of the pages
// written since, one possibly torn), recovered and checked: every synced
// record is there intact and in order, nothing is there that was not
// appended, and the WAL verifies clean. `npm run power-loss` runs 10,000.
import test from 'ava'
import {multiSegmentPowerLossTrials, powerLossTrials} from './helpers/corrupt.js'

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

// The same over several 1 MiB segments: rotations through the segment
// pipeline, rotated-out segments sealed in the background, and cuts that
// find seals no sync waited for, names of new segments lost, new segments
// with their header alone. `npm run power-loss -- --multi` runs 1,000.
test('100 random power cuts over rotating 1 MiB segments: no synced record lost, nothing invented, clean after recover', (t) => {
  const totals = multiSegmentPowerLossTrials(100, 1)
  t.log(`appended ${totals.appended}, synced ${totals.synced} (${totals.syncs} syncs), survived ${totals.survived}, rotations per trial ${JSON.stringify(totals.rotations)}, trials with unacknowledged seals ${totals.withUnackedSeals} (${totals.unackedSeals} seals), new segments absent ${totals.absent} / header only ${totals.headerOnly} / partial ${totals.partial}, torn pages ${totals.torn}, verdicts ${JSON.stringify(totals.verdicts)}, modes ${JSON.stringify(totals.modes)}`)
  t.deepEqual(totals.failures.slice(0, 5), [], 'failing seeds are listed here')
  t.is(totals.lostSynced, 0)
  t.is(totals.neverAppended, 0)
  t.is(totals.notClean, 0)
  const rotating = Object.entries(totals.rotations).filter(([r]) => Number(r) >= 2).reduce((n, [, k]) => n + k, 0)
  t.true(rotating >= 30, `trials with two rotations or more: ${JSON.stringify(totals.rotations)}`)
  t.true(totals.withUnackedSeals >= 15, 'cuts find seals that no sync waited for')
  t.true(totals.absent > 0 && totals.headerOnly > 0 && totals.partial > 0, 'new segments lost, left with their header alone, or with some pages')
  t.true(totals.synced > 0 && totals.survived > totals.synced, 'unsynced records sometimes survive')
  for (const v of ['clean', 'repairable', 'damaged']) t.true((totals.verdicts[v] ?? 0) > 0, JSON.stringify(totals.verdicts))
  for (const m of ['tolerate-tail', 'salvage', 'point-in-time']) t.true((totals.modes[m] ?? 0) > 0, JSON.stringify(totals.modes))
  t.true(totals.torn > 0)
})
