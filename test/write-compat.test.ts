// walctl writes what Shardex writes: replaying a fixture's records through the
// CLI gives segment files byte-identical to Shardex's, timestamps aside.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {FIELD} from '../src/core/format/format.js'
import {walctl} from './helpers/cli.js'
import {fixtureDir, FixtureSet, loadManifest, tempDir} from './helpers/fixtures.js'

const TIMESTAMPS = {from: FIELD.createdAt.offset, to: FIELD.modifiedAt.offset + FIELD.modifiedAt.size}

function withoutTimestamps(buf: Buffer): Buffer {
  const copy = Buffer.from(buf)
  copy.fill(0, TIMESTAMPS.from, TIMESTAMPS.to)
  return copy
}

const SETS: FixtureSet[] = ['small', 'full', 'large', 'rotation', 'forced-rotate', 'full-then-autorotate', 'empty']

for (const set of SETS) {
  test(`init + append (+ rotate) reproduces ${set} byte for byte`, (t) => {
    const manifest = loadManifest(set)
    const dir = path.join(tempDir(), 'wal')
    t.is(walctl(['init', dir, '--segment-size', String(manifest.segment_size)]).code, 0)
    // An explicit rotate_segment() while not full is the only rotation append does not make by itself.
    const forced = new Set(manifest.events.filter((e) => e.event === 'rotate_segment' && !('append_error' in e)).map((e) => e.after_record_index as number))
    let batch: string[] = []
    const flush = (): void => {
      if (batch.length === 0) return
      const r = walctl(['append', dir, '--stdin', '--input', 'hex'], {input: batch.join('\n') + '\n'})
      t.is(r.code, 0, r.stderr)
      batch = []
    }
    for (const rec of manifest.records) {
      batch.push(rec.hex)
      if (forced.has(rec.index)) {
        flush()
        t.is(walctl(['rotate', dir]).code, 0)
      }
    }
    flush()
    const names = fs.readdirSync(dir).sort()
    t.deepEqual(names, manifest.segments.map((s) => path.basename(s.file)))
    for (const name of names) {
      const ours = fs.readFileSync(path.join(dir, name))
      const theirs = fs.readFileSync(path.join(fixtureDir(set), 'wal', name))
      t.is(ours.length, theirs.length, name)
      t.true(withoutTimestamps(ours).equals(withoutTimestamps(theirs)), `${name} differs outside the timestamps`)
      // created_at == modified_at, as Shardex writes them.
      t.is(ours.readBigUInt64LE(FIELD.createdAt.offset), ours.readBigUInt64LE(FIELD.modifiedAt.offset))
    }
  })
}

test('the positions append prints are the manifest\'s record offsets', (t) => {
  const manifest = loadManifest('rotation')
  const dir = path.join(tempDir(), 'wal')
  walctl(['init', dir, '--segment-size', String(manifest.segment_size)])
  const r = walctl(['append', dir, '--stdin', '--input', 'hex'], {input: manifest.records.map((m) => m.hex).join('\n')})
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stdout.trim().split('\n'), manifest.records.map((m) => `${m.segment_id}:${m.record_offset}`))
})
