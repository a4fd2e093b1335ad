// walctl archive, restore, verify TARGET and gc --archived through real
// processes, against a file:// directory and a real S3-compatible server
// (s3rver on 127.0.0.1, started here).
import * as fs from 'node:fs'
import * as path from 'node:path'
import {spawn, spawnSync} from 'node:child_process'
import test from 'ava'
import {BIN, walctl} from './helpers/cli.js'
import {snapshot, tempDir} from './helpers/fixtures.js'
import {startS3, S3Server} from './helpers/s3.js'
import {WalManager} from '../src/core/write/manager.js'
import {segmentFileName} from '../src/core/format/names.js'
import {ROOT} from './helpers/cli.js'
import {checkShape, parseTypes} from './helpers/json-shape.js'

const types = parseTypes(fs.readFileSync(path.join(ROOT, 'docs', 'JSON.md'), 'utf8'))

/** Parses a --json stdout and holds it to its type in docs/JSON.md. */
function shaped<T>(stdout: string, type: string): T {
  const value = JSON.parse(stdout) as T
  const problems = checkShape(value, types.get(type)!, types)
  if (problems.length > 0) throw new Error(`${type}: not the shape of docs/JSON.md: ${problems.join('; ')}`)
  return value
}

let s3: S3Server
test.before(async () => {
  s3 = await startS3(['wal', 'other'])
})
test.after.always(async () => {
  await s3?.close()
})

interface Built {
  dir: string
  positions: string[]
}

/** A WAL of `count` records of about 100 bytes in 4 KiB segments (about 38 records a segment). */
function build(count = 400, segmentSize = 4096): Built {
  const dir = path.join(tempDir('walctl-archive-'), 'wal')
  const m = WalManager.init(dir, {segmentSize})
  const positions: string[] = []
  for (let i = 0; i < count; i++) {
    const p = m.append(Buffer.from(`record ${String(i).padStart(5, '0')} `.padEnd(100, 'x')))
    positions.push(`${p.segment}:${p.offset}`)
  }
  m.close()
  return {dir, positions}
}

function segments(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).filter((n) => /^wal_\d+\.log$/.test(n)).sort().map((n) => [n, fs.readFileSync(path.join(dir, n))]))
}

function targets(): Array<{name: string; url: () => string; env: () => NodeJS.ProcessEnv}> {
  return [
    {name: 'file://', url: () => `file://${path.join(tempDir('walctl-target-'), 'archive')}`, env: () => ({})},
    {name: 's3://', url: () => `s3://wal/${path.basename(tempDir('walctl-prefix-'))}/wal`, env: () => s3.env},
  ]
}

for (const t of targets()) {
  test(`${t.name}: a multi-segment WAL round-trips byte for byte; a second run ships nothing`, (tt) => {
    const wal = build()
    const url = t.url()
    const env = t.env()
    const before = snapshot(wal.dir)
    const r = walctl(['archive', wal.dir, '--to', url, '--json'], {env})
    tt.is(r.code, 0, r.stderr)
    const out = shaped<{shipped: Array<{name: string}>; sealed: number; lag: {segments: number}; archived: {count: number}}>(r.stdout, 'Archive')
    const all = segments(wal.dir)
    tt.is(out.sealed, all.size - 1)
    tt.deepEqual(out.shipped.map((s) => s.name), [...all.keys()].slice(0, -1), 'every sealed segment, oldest first; never the newest')
    tt.is(out.lag.segments, 0)
    tt.deepEqual(snapshot(wal.dir), before, 'the WAL is only read')
    const again = walctl(['archive', wal.dir, '--to', url, '--json'], {env})
    tt.is(again.code, 0, again.stderr)
    tt.deepEqual((JSON.parse(again.stdout) as {shipped: unknown[]}).shipped, [])

    const deep = walctl(['verify', url, '--deep', '--json'], {env})
    tt.is(deep.code, 0, deep.stdout + deep.stderr)
    const perSegment = (JSON.parse(walctl(['verify', wal.dir, '--json']).stdout) as {segments: Array<{records: number}>}).segments.map((s) => s.records)
    tt.is(shaped<{records: number}>(deep.stdout, 'VerifyArchive').records, perSegment.slice(0, -1).reduce((a, b) => a + b, 0), 'every sealed record verified')

    const restored = path.join(tempDir(), 'restored', 'wal')
    const rs = walctl(['restore', url, restored], {env})
    tt.is(rs.code, 0, rs.stderr)
    const back = segments(restored)
    tt.deepEqual([...back.keys()], [...all.keys()].slice(0, -1))
    for (const [name, bytes] of back) tt.true(bytes.equals(all.get(name)!), `${name} byte for byte`)
    tt.is(fs.statSync(path.dirname(restored)).mode & 0o022, 0)
    tt.is(walctl(['verify', restored]).code, 0)
  })

  test(`${t.name}: restore --to and --to-time equal what recover --mode point-in-time gives on the original`, (tt) => {
    const wal = build()
    const url = t.url()
    const env = t.env()
    tt.is(walctl(['archive', wal.dir, '--to', url], {env}).code, 0)
    // The position: a record in the middle of segment 3. Point-in-time on a copy whose next record is damaged cuts right after it.
    const i = wal.positions.findIndex((p) => p.startsWith('3:')) + 5
    const [seg, off] = wal.positions[i].split(':').map(Number)
    const copy = path.join(tempDir(), 'copy')
    fs.cpSync(wal.dir, copy, {recursive: true})
    const [, nextOff] = wal.positions[i + 1].split(':').map(Number)
    const fd = fs.openSync(path.join(copy, 'wal_000003.log'), 'r+')
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, nextOff + 20)
    fs.closeSync(fd)
    tt.is(walctl(['recover', copy, '--mode', 'point-in-time']).code, 0)
    const expected = segments(copy)

    const restored = path.join(tempDir(), 'r')
    const rs = walctl(['restore', url, restored, '--to', `${seg}:${off}`, '--json'], {env})
    tt.is(rs.code, 0, rs.stderr)
    tt.deepEqual([...segments(restored).keys()], [...expected.keys()])
    for (const [name, bytes] of segments(restored)) tt.true(bytes.equals(expected.get(name)!), `${name} equals point-in-time's`)
    tt.is(shaped<{lastRecord: string}>(rs.stdout, 'Restore').lastRecord, `${seg}:${off}`)

    // --to-time: the first millisecond after a segment (3 or later) was created in which the next one was not yet:
    // that segment is the newest created before it; cut after its last record. (Rotations of 4 KiB segments can
    // come less than a millisecond apart, so the segment is found rather than assumed.)
    const created = manifestOf(url, env).segments.map((s) => ({id: s.id, us: BigInt(s.createdAtUs)}))
    const msAfter = (us: bigint): bigint => (us / 1000n + 1n) * 1000n
    const k = created.findIndex((s, j) => s.id >= 3 && j + 1 < created.length && created[j + 1].us >= msAfter(s.us))
    tt.true(k >= 0, 'some sealed segment has a millisecond of its own')
    const cut = created[k].id
    const when = new Date(Number(msAfter(created[k].us) / 1000n)).toISOString()
    const byTime = path.join(tempDir(), 't')
    const rt = walctl(['restore', url, byTime, '--to-time', when, '--json'], {env})
    tt.is(rt.code, 0, rt.stderr)
    tt.deepEqual([...segments(byTime).keys()], created.slice(0, k + 1).map((s) => segmentFileName(s.id)))
    tt.true(segments(byTime).get(segmentFileName(cut))!.equals(segments(wal.dir).get(segmentFileName(cut))!), 'a sealed segment ends with its last record: nothing to cut')
    // A position that is not a record: refused, nothing left behind.
    const bad = path.join(tempDir(), 'bad')
    const rb = walctl(['restore', url, bad, '--to', `${seg}:${off + 1}`], {env})
    tt.is(rb.code, 65, rb.stderr)
    tt.regex(rb.stderr, /is not where a record starts in wal_000003\.log/)
    tt.deepEqual(fs.existsSync(bad) ? fs.readdirSync(bad) : [], [])
  })

  // Serial: the other tests spawn walctl synchronously, which would stall this test's polling.
  test.serial(`${t.name}: an archive killed in the middle of uploading is completed by the next run, no gap, no duplicate`, async (tt) => {
    const wal = build(1200)
    const url = t.url()
    const env = t.env()
    // 4 KiB a second over ~30 segments: the kill lands mid-run.
    const child = spawn(process.execPath, [BIN, 'archive', wal.dir, '--to', url, '--max-rate', '8KiB'], {env: {...process.env, ...env, NO_COLOR: '1'}, stdio: 'ignore'})
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && manifestCount(url, env) < 2) await new Promise((r) => setTimeout(r, 100))
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    const partial = manifestCount(url, env)
    tt.true(partial >= 2 && partial < segments(wal.dir).size - 1, `killed mid-run (${partial} archived)`)
    tt.is(walctl(['verify', url, '--deep'], {env}).code, 0, 'the interrupted archive is consistent')
    const rerun = walctl(['archive', wal.dir, '--to', url, '--json'], {env})
    tt.is(rerun.code, 0, rerun.stderr)
    const m = manifestOf(url, env)
    tt.deepEqual(m.segments.map((s) => s.id), [...Array(segments(wal.dir).size - 1).keys()].map((k) => k + 1), 'contiguous from 1, each once')
    const v = walctl(['verify', url, '--deep', '--json'], {env})
    tt.is(v.code, 0, v.stdout)
    tt.deepEqual((JSON.parse(v.stdout) as {problems: unknown[]}).problems, [], 'no stray object either')
  })

  test(`${t.name}: a corrupted archived object is found by verify --deep and refused by restore`, (tt) => {
    const wal = build()
    const url = t.url()
    const env = t.env()
    tt.is(walctl(['archive', wal.dir, '--to', url], {env}).code, 0)
    corruptObject(url, env, 'wal_000002.log')
    const shallow = walctl(['verify', url], {env})
    tt.is(shallow.code, 0, 'same size: only a deep verify reads the bytes')
    const deep = walctl(['verify', url, '--deep'], {env})
    tt.is(deep.code, 2, deep.stdout)
    tt.regex(deep.stdout, /damaged: .*\/wal_000002\.log: checksum-mismatch: sha256 [0-9a-f]{64}/)
    const restored = path.join(tempDir(), 'r')
    const rs = walctl(['restore', url, restored], {env})
    tt.is(rs.code, 2)
    tt.regex(rs.stderr, /^walctl: .*wal_000002\.log: archived wal_000002\.log does not match the manifest: its sha256 is [0-9a-f]{64}, the manifest lists [0-9a-f]{64}; nothing was restored\n$/)
    tt.deepEqual(fs.readdirSync(restored), [], 'nothing half-written left')
  })
}

for (const t of targets()) {
  test(`${t.name}: --include-current ships the newest segment's records so far; restore gives the whole WAL back`, (tt) => {
    const wal = build(250)
    const url = t.url()
    const env = t.env()
    const r = walctl(['archive', wal.dir, '--to', url, '--include-current', '--json'], {env})
    tt.is(r.code, 0, r.stderr)
    const out = shaped<{current: {id: number; shipped: boolean; lastRecord: string}}>(r.stdout, 'Archive')
    const all = segments(wal.dir)
    tt.is(out.current.id, all.size)
    tt.true(out.current.shipped)
    tt.is(out.current.lastRecord, wal.positions.at(-1))
    // Unchanged: not shipped again. Then more records: shipped again, the old prefix gone.
    tt.false((JSON.parse(walctl(['archive', wal.dir, '--to', url, '--include-current', '--json'], {env}).stdout) as typeof out).current.shipped)
    tt.is(walctl(['append', wal.dir, 'one more'], {env}).code, 0)
    tt.true((JSON.parse(walctl(['archive', wal.dir, '--to', url, '--include-current', '--json'], {env}).stdout) as typeof out).current.shipped)
    const v = walctl(['verify', url, '--deep', '--json'], {env})
    tt.is(v.code, 0, v.stdout)
    tt.deepEqual((JSON.parse(v.stdout) as {problems: unknown[]}).problems, [])
    const restored = path.join(tempDir(), 'r')
    tt.is(walctl(['restore', url, restored], {env}).code, 0)
    const now = segments(wal.dir)
    tt.deepEqual([...segments(restored).keys()], [...now.keys()])
    for (const [name, bytes] of segments(restored)) tt.true(bytes.equals(now.get(name)!), `${name} byte for byte, the newest included`)
  })
}

test('s3://: a bucket that refuses writes is exit 74, and the WAL is untouched', async (t) => {
  const wal = build()
  const before = snapshot(wal.dir)
  const r = walctl(['archive', wal.dir, '--to', 's3://wal/refused', '--endpoint', s3.readOnlyEndpoint], {env: s3.env})
  t.is(r.code, 74, r.stderr)
  t.regex(r.stderr, /^walctl: s3:\/\/wal\/refused\/wal_000001\.log: cannot upload wal_000001\.log: AccessDenied \(HTTP 403\)/)
  t.deepEqual(snapshot(wal.dir), before)
})

test('restore refuses a directory that holds segments, and a target that is no archive', (t) => {
  const wal = build()
  const url = `file://${path.join(tempDir(), 'a')}`
  t.is(walctl(['archive', wal.dir, '--to', url]).code, 0)
  const r = walctl(['restore', url, wal.dir])
  t.is(r.code, 73)
  t.regex(r.stderr, /refusing to restore into a directory that holds segments/)
  const none = walctl(['restore', `file://${tempDir()}`, path.join(tempDir(), 'x')])
  t.is(none.code, 66)
  t.regex(none.stderr, /no manifest\.json here: not a walctl archive/)
  t.is(walctl(['archive', wal.dir, '--to', 'ftp://x/y']).code, 64)
})

test('file://: a planted symlink as the archive directory is refused; the victim is untouched', (t) => {
  const wal = build()
  const victim = tempDir()
  fs.writeFileSync(path.join(victim, 'keep'), 'precious')
  const link = path.join(tempDir(), 'arch')
  fs.symlinkSync(victim, link)
  const r = walctl(['archive', wal.dir, '--to', `file://${link}`])
  t.is(r.code, 73, r.stderr)
  t.deepEqual(fs.readdirSync(victim), ['keep'])
})

test('gc --archived removes exactly the segments the archive holds with a matching checksum', (t) => {
  const wal = build()
  const url = `file://${path.join(tempDir(), 'a')}`
  const all = [...segments(wal.dir).keys()]
  // Archive, then make the archive miss the last two sealed segments.
  t.is(walctl(['archive', wal.dir, '--to', url]).code, 0)
  const m = manifestOf(url, {})
  const kept = m.segments.length - 2
  m.segments = m.segments.slice(0, kept)
  fs.writeFileSync(path.join(new URL(url).pathname, 'manifest.json'), JSON.stringify(m))
  const r = walctl(['gc', wal.dir, '--archived', url, '--json'])
  t.is(r.code, 0, r.stderr)
  t.deepEqual((JSON.parse(r.stdout) as {segments: Array<{name: string}>}).segments.map((s) => s.name), all.slice(0, kept))
  t.deepEqual([...segments(wal.dir).keys()], all.slice(kept))
  // A segment whose bytes differ from its archived copy is never removed by it.
  const wal2 = build()
  const url2 = `file://${path.join(tempDir(), 'b')}`
  t.is(walctl(['archive', wal2.dir, '--to', url2]).code, 0)
  const fd = fs.openSync(path.join(wal2.dir, 'wal_000001.log'), 'r+')
  fs.writeSync(fd, Buffer.from('changed'), 0, 7, 200)
  fs.closeSync(fd)
  const r2 = walctl(['gc', wal2.dir, '--archived', url2, '--json'])
  t.is(r2.code, 0, r2.stderr)
  t.deepEqual((JSON.parse(r2.stdout) as {segments: unknown[]}).segments, [])
  t.true(fs.existsSync(path.join(wal2.dir, 'wal_000001.log')))
})

test('--prometheus writes lag and success; --prune-keep keeps the newest archived segments', (t) => {
  const wal = build()
  const url = `file://${path.join(tempDir(), 'a')}`
  const prom = path.join(tempDir(), 'walctl_archive.prom')
  const r = walctl(['archive', wal.dir, '--to', url, '--prometheus', prom, '--prune-keep', '3', '--json'])
  t.is(r.code, 0, r.stderr)
  const text = fs.readFileSync(prom, 'utf8')
  t.regex(text, /^walctl_archive_success\{wal=".*",target="file:\/\/.*"\} 1$/m)
  t.regex(text, /^walctl_archive_lag_segments\{.*\} 0$/m)
  t.regex(text, /^walctl_archive_last_success_timestamp_seconds\{.*\} \d+/m)
  t.deepEqual(manifestOf(url, {}).segments.length, 3)
  t.is(walctl(['verify', url, '--deep']).code, 0)
  const failed = walctl(['archive', path.join(tempDir(), 'nowal'), '--to', url, '--prometheus', prom])
  t.is(failed.code, 66)
})

interface ManifestJson {
  segments: Array<{id: number; name: string; createdAtUs: string}>
}

function manifestOf(url: string, env: NodeJS.ProcessEnv): ManifestJson {
  if (url.startsWith('file://')) return JSON.parse(fs.readFileSync(path.join(new URL(url).pathname, 'manifest.json'), 'utf8')) as ManifestJson
  const r = readS3Object(url, 'manifest.json', env)
  return JSON.parse(r.toString('utf8')) as ManifestJson
}

function manifestCount(url: string, env: NodeJS.ProcessEnv): number {
  try {
    return manifestOf(url, env).segments.length
  } catch {
    return 0
  }
}

/** Runs a small S3 script in a child (the SDK is async; the tests stay synchronous around it). */
function s3Script(env: NodeJS.ProcessEnv, body: string): Buffer {
  const script = `import {S3Client, GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3'
const c = new S3Client({endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'})
${body}`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env: {...process.env, ...env}, cwd: path.dirname(BIN)})
  if (r.status !== 0) throw new Error(r.stderr.toString())
  return r.stdout
}

function bucketKey(url: string, name: string): {bucket: string; key: string} {
  const u = new URL(url)
  return {bucket: u.host, key: `${u.pathname.replace(/^\/+/, '')}/${name}`}
}

function readS3Object(url: string, name: string, env: NodeJS.ProcessEnv): Buffer {
  const {bucket, key} = bucketKey(url, name)
  return s3Script(env, `const r = await c.send(new GetObjectCommand({Bucket: ${JSON.stringify(bucket)}, Key: ${JSON.stringify(key)}}))
process.stdout.write(Buffer.from(await r.Body.transformToByteArray()))`)
}

function corruptObject(url: string, env: NodeJS.ProcessEnv, name: string): void {
  if (url.startsWith('file://')) {
    const file = path.join(new URL(url).pathname, name)
    fs.chmodSync(file, 0o640)
    const fd = fs.openSync(file, 'r+')
    fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, 300)
    fs.closeSync(fd)
    return
  }
  const bytes = readS3Object(url, name, env)
  bytes[300] ^= 0xff
  const {bucket, key} = bucketKey(url, name)
  s3Script(env, `await c.send(new PutObjectCommand({Bucket: ${JSON.stringify(bucket)}, Key: ${JSON.stringify(key)}, Body: Buffer.from(${JSON.stringify(bytes.toString('base64'))}, 'base64')}))`)
}

test.serial('archive --watch ships segments as they seal and stops on SIGTERM with 143, the archive consistent', async (t) => {
  const wal = build(100)
  const url = `file://${path.join(tempDir(), 'w')}`
  const child = spawn(process.execPath, [BIN, 'archive', wal.dir, '--to', url, '--watch', '--interval', '200ms', '--quiet'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitFor = async (n: number): Promise<void> => {
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && manifestCount(url, {}) < n) await new Promise((r) => setTimeout(r, 100))
  }
  const first = segments(wal.dir).size - 1
  await waitFor(first)
  t.is(manifestCount(url, {}), first)
  // Seal the newest segment: the watch ships it at its next pass.
  t.is(walctl(['rotate', wal.dir]).code, 0)
  await waitFor(first + 1)
  t.is(manifestCount(url, {}), first + 1)
  child.kill('SIGTERM')
  t.is(await exited, 143, stderr)
  t.regex(stderr, /interrupted by SIGTERM; the archive is consistent/)
  t.is(walctl(['verify', url, '--deep']).code, 0)
})
