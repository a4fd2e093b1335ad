// Table-driven corruption suite: each case is a named byte edit on a WAL the
// test builds (20 records of 40 bytes; records 0-7 in segment 1, 8-15 in 2,
// 16-19 in 3, whose last record ends at 281 of 512), with the verdict, the
// problems, and the records that must survive each recover mode (read back by
// an independent Shardex-style reader). Cases borrow from etcd's
// TestRepairWriteTearLast/Middle and TestOpenOnTornWrite, LevelDB's log_test
// and Prometheus' TestWALRepair_ReadingError.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {crc32} from 'crc'
import {WalManager} from '../src/core/write/manager.js'
import {RECOVER_MODES, RecoverMode, recoverWal} from '../src/core/repair/recover.js'
import {Verdict} from '../src/core/read/scan.js'
import {verifyWal} from '../src/core/read/verify.js'
import {
  BuiltWal, buildWal, cloneWal, CREATED_US, flipByte, payloadFor, recordOffset, segPath, shardexOpen, u32le, u64le, writeBytes, zeroRange,
} from './helpers/corrupt.js'
import {snapshot} from './helpers/fixtures.js'

type Survivors = number[] | 'refused'

interface Case {
  name: string
  edit: (w: BuiltWal) => void
  verdict: Verdict
  /** `segment:kind` of every problem, warnings included (segment `-` for the directory). */
  problems: string[]
  /** Records (by index) after each mode; one array for all modes when they agree. */
  survivors: Survivors | Record<RecoverMode, Survivors>
}

const range = (from: number, to: number): number[] => Array.from({length: to - from}, (_, i) => from + i)
const ALL = range(0, 20)
const without = (...drop: number[]): number[] => ALL.filter((i) => !drop.includes(i))
const nowUs = (): bigint => BigInt(Date.now()) * 1000n
const HOUR_US = 3_600_000_000n
const off = recordOffset

/** Damage that hides records: tolerate-tail refuses, point-in-time keeps what is before, salvage keeps every valid record. */
const damaged = (pit: number[], salvage: number[]): Record<RecoverMode, Survivors> => ({'tolerate-tail': 'refused', 'point-in-time': pit, salvage})

function truncate(w: BuiltWal, id: number, size: number): void {
  fs.truncateSync(segPath(w, id), size)
}

const CASES: Case[] = [
  // Torn tails of the newest segment: repairable, nothing complete is lost.
  {name: 'torn last record: length only', edit: (w) => writeBytes(segPath(w, 3), 281, u32le(40)), verdict: 'repairable', problems: ['3:crc-mismatch'], survivors: ALL},
  {name: 'torn last record: header only', edit: (w) => writeBytes(segPath(w, 3), 281, [...u32le(40), ...u32le(crc32(payloadFor(20)))]), verdict: 'repairable', problems: ['3:crc-mismatch'], survivors: ALL},
  {
    name: 'torn last record: half the data (etcd TestRepairWriteTearLast)',
    edit: (w) => writeBytes(segPath(w, 3), 281, [...u32le(40), ...u32le(crc32(payloadFor(20))), ...payloadFor(20).subarray(0, 20)]),
    verdict: 'repairable', problems: ['3:crc-mismatch'], survivors: ALL,
  },
  {name: 'stray byte right after the last record', edit: (w) => writeBytes(segPath(w, 3), 281, [0x5a]), verdict: 'repairable', problems: ['3:crc-mismatch'], survivors: ALL},
  {name: 'stray byte far after the last record', edit: (w) => writeBytes(segPath(w, 3), 400, [0x5a]), verdict: 'repairable', problems: ['3:debris'], survivors: ALL},
  {name: 'stray byte in the last 7 bytes of a segment', edit: (w) => writeBytes(segPath(w, 3), 509, [1]), verdict: 'repairable', problems: ['3:debris'], survivors: ALL},
  {name: 'length past the capacity after the last record', edit: (w) => writeBytes(segPath(w, 3), 281, u32le(10_000)), verdict: 'repairable', problems: ['3:bad-length'], survivors: ALL},
  {
    name: 'torn write: zeros from the middle of a record to the end (etcd TestOpenOnTornWrite)',
    edit: (w) => zeroRange(segPath(w, 3), off(w, 17) + 20, 512),
    verdict: 'repairable', problems: ['3:crc-mismatch'], survivors: range(0, 17),
  },
  {
    name: 'truncated trailing record (LevelDB TruncatedTrailingRecordIsIgnored)',
    edit: (w) => truncate(w, 3, off(w, 19) + 30),
    verdict: 'repairable', problems: ['3:partial-record', '3:size-mismatch'], survivors: range(0, 19),
  },
  // Damage that hides valid records behind it.
  {name: 'length past the capacity in the middle', edit: (w) => writeBytes(segPath(w, 3), off(w, 17), u32le(10_000)), verdict: 'damaged', problems: ['3:bad-length'], survivors: damaged(range(0, 17), without(17))},
  {name: 'zero length in the middle hiding valid records', edit: (w) => writeBytes(segPath(w, 3), off(w, 17), u32le(0)), verdict: 'damaged', problems: ['3:zero-length'], survivors: damaged(range(0, 17), without(17))},
  {
    name: 'a zeroed record in the middle (etcd TestRepairWriteTearMiddle)',
    edit: (w) => zeroRange(segPath(w, 3), off(w, 17), off(w, 18)),
    verdict: 'damaged', problems: ['3:zero-length'], survivors: damaged(range(0, 17), without(17)),
  },
  {
    name: 'flipped data byte mid-segment (Prometheus TestWALRepair_ReadingError)',
    edit: (w) => flipByte(segPath(w, 2), off(w, 10) + 8 + 5),
    verdict: 'damaged', problems: ['2:crc-mismatch'], survivors: damaged(range(0, 10), without(10)),
  },
  {name: 'checksum mismatch (LevelDB ChecksumMismatch)', edit: (w) => flipByte(segPath(w, 3), off(w, 16) + 4), verdict: 'damaged', problems: ['3:crc-mismatch'], survivors: damaged(range(0, 16), without(16))},
  {name: 'length one too long (LevelDB BadLength)', edit: (w) => writeBytes(segPath(w, 3), off(w, 18), u32le(41)), verdict: 'damaged', problems: ['3:crc-mismatch'], survivors: damaged(range(0, 18), without(18))},
  {name: 'damage in an older segment', edit: (w) => flipByte(segPath(w, 1), off(w, 3) + 8), verdict: 'damaged', problems: ['1:crc-mismatch'], survivors: damaged(range(0, 3), without(3))},
  {
    name: 'two damaged records in two segments',
    edit: (w) => {
      flipByte(segPath(w, 1), off(w, 2) + 9)
      writeBytes(segPath(w, 2), off(w, 12), u32le(0))
    },
    verdict: 'damaged', problems: ['1:crc-mismatch', '2:zero-length'], survivors: damaged(range(0, 2), without(2, 12)),
  },
  {name: 'torn tail in an older segment', edit: (w) => zeroRange(segPath(w, 1), off(w, 7) + 20, off(w, 7) + 48), verdict: 'repairable', problems: ['1:crc-mismatch'], survivors: without(7)},
  // Headers.
  {name: 'wrong magic', edit: (w) => writeBytes(segPath(w, 2), 0, Buffer.from('WLOX')), verdict: 'damaged', problems: ['2:bad-magic'], survivors: damaged(range(0, 8), ALL)},
  {name: 'wrong version in the first segment', edit: (w) => writeBytes(segPath(w, 1), 4, u32le(2)), verdict: 'damaged', problems: ['1:bad-version'], survivors: damaged([], ALL)},
  {name: 'wrong header_size', edit: (w) => writeBytes(segPath(w, 3), 8, u32le(96)), verdict: 'damaged', problems: ['3:bad-header-size'], survivors: damaged(range(0, 16), ALL)},
  {name: 'data_offset below 80', edit: (w) => writeBytes(segPath(w, 2), 16, u64le(79n)), verdict: 'damaged', problems: ['2:bad-data-offset'], survivors: damaged(range(0, 8), ALL)},
  {name: 'data_offset above 80 (records still at 89): clean', edit: (w) => writeBytes(segPath(w, 2), 16, u64le(4096n)), verdict: 'clean', problems: [], survivors: ALL},
  {name: 'reserved header bytes not zero', edit: (w) => writeBytes(segPath(w, 3), 60, [1]), verdict: 'damaged', problems: ['3:reserved-not-zero'], survivors: damaged(range(0, 16), ALL)},
  {
    name: 'timestamps more than a day in the future',
    edit: (w) => writeBytes(segPath(w, 2), 32, [...u64le(nowUs() + 48n * HOUR_US), ...u64le(nowUs() + 48n * HOUR_US)]),
    verdict: 'repairable', problems: ['2:future-timestamp', '2:future-timestamp'], survivors: ALL,
  },
  {
    name: 'timestamps an hour ahead (clock skew): a warning, clean',
    edit: (w) => writeBytes(segPath(w, 3), 32, [...u64le(nowUs() + HOUR_US), ...u64le(nowUs() + HOUR_US)]),
    verdict: 'clean', problems: ['3:clock-skew', '3:clock-skew'], survivors: ALL,
  },
  {name: 'created after modified', edit: (w) => writeBytes(segPath(w, 1), 40, u64le(CREATED_US - 1_000_000n)), verdict: 'repairable', problems: ['1:created-after-modified'], survivors: ALL},
  {
    name: 'garbage padding bytes (Shardex leaves 12..16 and 28..32 uninitialised): clean',
    edit: (w) => {
      for (const id of [1, 2, 3]) {
        writeBytes(segPath(w, id), 12, [0xde, 0xad, 0xbe, 0xef])
        writeBytes(segPath(w, id), 28, [0x13, 0x37, 0x00, 0xff])
      }
    },
    verdict: 'clean', problems: [], survivors: ALL,
  },
  // Files cut short.
  {name: 'file truncated at 0 bytes', edit: (w) => truncate(w, 2, 0), verdict: 'damaged', problems: ['2:short-file'], survivors: damaged(range(0, 8), [...range(0, 8), ...range(16, 20)])},
  {name: 'file truncated at 40 bytes', edit: (w) => truncate(w, 2, 40), verdict: 'damaged', problems: ['2:short-file'], survivors: damaged(range(0, 8), [...range(0, 8), ...range(16, 20)])},
  {name: 'file truncated at 79 bytes', edit: (w) => truncate(w, 3, 79), verdict: 'damaged', problems: ['3:short-file'], survivors: damaged(range(0, 16), range(0, 16))},
  {name: 'file truncated at 85 bytes', edit: (w) => truncate(w, 1, 85), verdict: 'damaged', problems: ['1:short-file'], survivors: damaged([], range(8, 20))},
  {name: 'file truncated at 89 bytes (header intact)', edit: (w) => truncate(w, 2, 89), verdict: 'repairable', problems: ['2:size-mismatch'], survivors: [...range(0, 8), ...range(16, 20)]},
  {
    name: 'file truncated mid-record',
    edit: (w) => truncate(w, 2, off(w, 10) + 20),
    verdict: 'repairable', problems: ['2:partial-record', '2:size-mismatch'], survivors: [...range(0, 10), ...range(16, 20)],
  },
  {name: 'file truncated at a record boundary', edit: (w) => truncate(w, 2, off(w, 12)), verdict: 'repairable', problems: ['2:size-mismatch'], survivors: [...range(0, 12), ...range(16, 20)]},
  // The directory.
  {name: 'a missing middle segment', edit: (w) => fs.unlinkSync(segPath(w, 2)), verdict: 'damaged', problems: ['2:missing-segment'], survivors: damaged(range(0, 8), [...range(0, 8), ...range(16, 20)])},
  {name: 'a gap at the start (after gc): clean', edit: (w) => fs.unlinkSync(segPath(w, 1)), verdict: 'clean', problems: [], survivors: range(8, 20)},
  {
    name: 'stray files: warnings, clean',
    edit: (w) => {
      fs.writeFileSync(path.join(w.dir, 'notes.txt'), 'hello')
      fs.writeFileSync(path.join(w.dir, 'wal_000004.log.tmp'), 'partial')
      fs.mkdirSync(path.join(w.dir, 'old'))
    },
    verdict: 'clean', problems: ['-:stray-file', '-:stray-file', '-:stray-file'], survivors: ALL,
  },
]

const EXIT: Record<Verdict, number> = {clean: 0, repairable: 1, damaged: 2}

function problemKeys(problems: ReadonlyArray<{segment: number | null; kind: string}>): string[] {
  return problems.map((p) => `${p.segment ?? '-'}:${p.kind}`).sort()
}

function survivorsFor(c: Case, mode: RecoverMode): Survivors {
  return Array.isArray(c.survivors) || c.survivors === 'refused' ? c.survivors : c.survivors[mode]
}

for (const c of CASES) {
  test(`verify: ${c.name}`, (t) => {
    const w = buildWal()
    c.edit(w)
    const before = snapshot(w.dir)
    const report = verifyWal(w.dir)
    t.is(report.verdict, c.verdict)
    t.deepEqual(problemKeys(report.problems), [...c.problems].sort())
    for (const p of report.problems) t.true(p.message.length > 0)
    t.is(report.exitCode, EXIT[c.verdict])
    t.deepEqual(snapshot(w.dir), before, 'verify changes no byte and no mtime')
  })

  for (const mode of RECOVER_MODES) {
    test(`recover --mode ${mode}: ${c.name}`, (t) => {
      const w = buildWal()
      c.edit(w)
      const dir = cloneWal(w.dir)
      const before = snapshot(dir)
      const expected = survivorsFor(c, mode)
      const dry = recoverWal(dir, {mode, dryRun: true})
      t.deepEqual(snapshot(dir), before, '--dry-run changes nothing')
      const r = recoverWal(dir, {mode})
      if (expected === 'refused') {
        t.is(r.exitCode, 2)
        t.truthy(r.refused)
        t.false(r.changed)
        t.deepEqual(snapshot(dir), before, 'a refused recover changes nothing')
        // It says what the other modes would keep and drop.
        t.true(r.modes.filter((m) => m.mode !== mode).every((m) => m.keptRecords + m.droppedRecords === r.records.before))
        return
      }
      t.is(r.exitCode, 0, r.refused ?? '')
      t.is(r.verdictAfter, 'clean')
      t.deepEqual(dry.records, r.records, 'the dry run planned what was done')
      t.is(r.records.kept, expected.length)
      const open = shardexOpen(dir)
      t.deepEqual(open.errors, [], 'Shardex would open every segment')
      t.deepEqual(open.records.map((b) => b.toString()), expected.map((i) => w.payloads[i].toString()))
      t.is(verifyWal(dir).exitCode, 0)
      if (c.verdict === 'clean' && c.problems.every((p) => !p.endsWith('clock-skew'))) {
        t.false(r.changed)
        t.deepEqual(snapshot(dir), before, 'a clean WAL is left alone')
      }
      if (r.changed) {
        // Every changed or moved segment is in the quarantine as it was, with a report.
        t.truthy(r.quarantine)
        const report = JSON.parse(fs.readFileSync(path.join(r.quarantine!, 'report.json'), 'utf8')) as {status: string; mode: string; actions: unknown[]}
        t.is(report.status, 'done')
        t.is(report.mode, mode)
        t.is(report.actions.length, r.actions.length)
        for (const a of r.actions) {
          if (a.action === 'create') continue
          t.truthy(a.quarantined)
          t.is(fs.readFileSync(path.join(dir, a.quarantined!)).toString('base64'), before.get(a.file)!.bytes, `${a.file} kept as it was`)
        }
      }
      // The newest segment takes appends.
      const m = WalManager.open(dir)
      m.append(Buffer.from('appended after recover'))
      m.close()
      const again = shardexOpen(dir)
      t.deepEqual(again.errors, [])
      t.is(again.records.at(-1)?.toString(), 'appended after recover')
      t.is(verifyWal(dir).verdict, 'clean')
    })
  }
}
