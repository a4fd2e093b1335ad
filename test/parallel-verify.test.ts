// verify on several threads gives the report one thread gives, problem for
// problem, through real processes: a WAL large enough to be split (five
// sparse segments of 64 MiB) with damage, a gap and a stray file in it.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {WalManager} from '../src/core/write/manager.js'
import {walctl} from './helpers/cli.js'
import {tempDir} from './helpers/fixtures.js'

function bigWal(): string {
  const dir = path.join(tempDir('walctl-parallel-'), 'wal')
  const m = WalManager.init(dir, {segmentSize: 64 * 1024 * 1024})
  for (let i = 0; i < 300; i++) m.append(Buffer.alloc(3000, i & 0xff))
  m.close()
  // Copies that keep the zero tail a hole: 320 MiB of WAL in a few MiB of disk.
  for (const id of [2, 3, 5, 6]) {
    const r = spawnSync('cp', ['--sparse=always', path.join(dir, 'wal_000001.log'), path.join(dir, `wal_00000${id}.log`)])
    if (r.status !== 0) throw new Error(r.stderr.toString())
  }
  const fd = fs.openSync(path.join(dir, 'wal_000003.log'), 'r+')
  fs.writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, 89 + 8 + 10)
  fs.closeSync(fd)
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a segment')
  return dir
}

test('verify split over threads reports exactly what one thread reports', (t) => {
  const wal = bigWal()
  const one = walctl(['verify', wal, '--json', '--jobs', '1'])
  const many = walctl(['verify', wal, '--json', '--jobs', '3'])
  t.is(one.code, 2, one.stderr)
  t.is(many.code, one.code, many.stderr)
  t.deepEqual(JSON.parse(many.stdout), JSON.parse(one.stdout))
  const kinds = (JSON.parse(many.stdout) as {problems: Array<{kind: string}>}).problems.map((p) => p.kind)
  t.deepEqual(kinds, ['stray-file', 'missing-segment', 'crc-mismatch'], 'directory problems once, then each segment\'s, in order')
  t.is(walctl(['verify', wal, '--verbose', '--jobs', '2']).stdout, walctl(['verify', wal, '--verbose', '--jobs', '1']).stdout)
})
