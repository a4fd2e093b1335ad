// Every Shardex fixture, in both families, reads back exactly as its manifest says.
import test from 'ava'
import {walctlAsync} from './helpers/cli.js'
import {FIXTURE_FAMILIES, FIXTURE_SETS, fixtureDir, loadManifest} from './helpers/fixtures.js'

for (const family of FIXTURE_FAMILIES) {
  for (const set of FIXTURE_SETS) {
    test(`dump --format jsonl lists exactly the manifest's records: ${family}/${set}`, async (t) => {
      const manifest = loadManifest(set, family)
      const r = await walctlAsync(['dump', fixtureDir(set, family), '--format', 'jsonl'])
      t.is(r.code, 0, r.stderr)
      const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      const records = lines.filter((l) => 'valid' in l)
      t.is(lines.length, records.length, 'nothing but records on a clean fixture')
      t.deepEqual(
        records.map((r) => ({segment: r.segment, offset: r.offset, length: r.length, crc32: r.crc32, valid: r.valid, data: r.data})),
        manifest.records.map((m) => ({segment: m.segment_id, offset: m.record_offset, length: m.length, crc32: m.crc32, valid: true, data: m.hex})),
      )
    })

    test(`verify exits 0: ${family}/${set}`, async (t) => {
      const manifest = loadManifest(set, family)
      const r = await walctlAsync(['verify', fixtureDir(set, family), '--json'])
      t.is(r.code, 0, r.stdout + r.stderr)
      const report = JSON.parse(r.stdout) as {verdict: string; records: number; segments: Array<{id: number; cleanEnd: number; records: number}>}
      t.is(report.verdict, 'clean')
      t.is(report.records, manifest.records.length)
      // The write pointer recovered by scanning is where Shardex left it.
      t.deepEqual(
        report.segments.map((s) => ({id: s.id, writePointer: s.cleanEnd, records: s.records})),
        manifest.segments.map((s) => ({id: s.id, writePointer: s.write_pointer, records: s.record_count})),
      )
    })
  }
}

test('a Shardex index root (holding wal/) and its wal/ directory read the same', async (t) => {
  const root = fixtureDir('rotation')
  const [a, b] = await Promise.all([walctlAsync(['dump', root, '--format', 'jsonl']), walctlAsync(['dump', `${root}/wal`, '--format', 'jsonl'])])
  t.is(a.code, 0)
  t.is(a.stdout, b.stdout)
  t.true(a.stdout.length > 0)
})
