// Readers take no lock: a gc that removes the oldest segments while a scan runs does not fail the scan.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {scanWal} from '../src/core/read/scan.js'
import {tempDir} from './helpers/fixtures.js'

function walOf(segments: number): string {
  const dir = tempDir()
  const m = WalManager.init(dir, {segmentSize: 1024})
  for (let i = 1; i < segments; i++) {
    m.append(Buffer.from(`record ${i}`))
    m.rotate()
  }
  m.append(Buffer.from('last'))
  m.close()
  return dir
}

test('segments collected oldest-first during a scan are skipped, the rest read', (t) => {
  const dir = walOf(10)
  const seen: number[] = []
  const result = scanWal(dir, {
    onSegmentEnd: (s) => {
      seen.push(s.id)
      // After segment 1 is read, a gc removes 1..5.
      if (s.id === 1) for (let id = 1; id <= 5; id++) fs.rmSync(path.join(dir, `wal_00000${id}.log`))
    },
  })
  t.deepEqual(seen, [1, 6, 7, 8, 9, 10])
  t.is(result.verdict, 'clean')
})

test('a segment vanishing from the middle is still an error naming it', (t) => {
  const dir = walOf(6)
  const err = t.throws(() => scanWal(dir, {
    onSegmentEnd: (s) => {
      if (s.id === 2) fs.rmSync(path.join(dir, 'wal_000004.log'))
    },
  }))
  t.regex(err?.message ?? '', /wal_000004\.log: cannot open for reading: no such file/)
})
