// walctl run as root on a shared host, against a hostile tester: every
// scenario a named case through real processes, with what must hold
// afterwards. No file outside the WAL directory (or the archive directory
// named) ever changes: a victim file planted behind a link stays byte-identical.
import test, {ExecutionContext} from 'ava'
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {BIN, CliResult, walctl, walctlAsync} from './helpers/cli.js'
import {tempDir, snapshot} from './helpers/fixtures.js'
import {buildWal, segPath} from './helpers/corrupt.js'
import {WalManager} from '../src/core/write/manager.js'
import {escapeName, shellQuote} from '../src/core/fs/quote.js'

const NOBODY = 65534
/** As uid 65534, with a home it may write (oclif looks for its data directory there). */
const asNobody = (): {uid: number; env: NodeJS.ProcessEnv} => {
  const home = tempDir('walctl-home-')
  fs.chmodSync(home, 0o777)
  return {uid: NOBODY, env: {HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home}}
}
const TIMEOUT = 20_000

/** A directory other users can traverse (mkdtemp makes 0700 ones), holding a WAL `wal/` of one 4 KiB segment with two records. */
function newWal(name = 'wal', records = ['first', 'second']): string {
  const root = tempDir('walctl-hostile-')
  fs.chmodSync(root, 0o755)
  const dir = path.join(root, name)
  const m = WalManager.init(dir, {segmentSize: 4096})
  for (const r of records) m.append(Buffer.from(r))
  m.close()
  return dir
}

interface Victim {
  file: string
  dir: string
  bytes: Buffer
  mtimeMs: number
  mode: number
}

/** A file (and its folder) outside the WAL that a planted link points to. */
function victim(): Victim {
  const dir = tempDir('walctl-victim-')
  const file = path.join(dir, 'victim')
  fs.writeFileSync(file, 'precious data of another user\n', {mode: 0o600})
  const st = fs.statSync(file)
  return {file, dir, bytes: fs.readFileSync(file), mtimeMs: st.mtimeMs, mode: st.mode}
}

function victimUntouched(t: ExecutionContext, v: Victim): void {
  t.deepEqual(fs.readFileSync(v.file), v.bytes, 'the victim file is byte-identical')
  const st = fs.statSync(v.file)
  t.is(st.mtimeMs, v.mtimeMs, 'the victim file was not written')
  t.is(st.mode, v.mode)
  t.deepEqual(fs.readdirSync(v.dir), ['victim'], 'nothing was created beside the victim')
}

function isLink(p: string): boolean {
  return fs.lstatSync(p, {throwIfNoEntry: false})?.isSymbolicLink() ?? false
}

function oneLine(t: ExecutionContext, text: string): void {
  t.is(text.trimEnd().split('\n').length, 1, text)
}

/** Bytes after the last record of `dir`'s newest segment that look like a torn record: a repairable tail. */
function tornTail(dir: string): void {
  const m = WalManager.open(dir)
  const seg = m.current()
  const at = seg.writePointer
  const file = seg.path
  m.close()
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.from([0x20, 0, 0, 0, 1, 2]), 0, 6, at)
  fs.closeSync(fd)
}

function mkfifo(p: string): void {
  const r = spawnSync('mkfifo', [p])
  if (r.status !== 0) throw new Error(`mkfifo ${p}: ${r.stderr.toString()}`)
}

/** `walctl ...args` under `umask`, through sh as an operator's shell would start it. */
function walctlUmask(umask: string, args: string[]): CliResult {
  const r = spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, BIN, ...args], {env: {...process.env, NO_COLOR: '1'}, timeout: 60_000})
  return {code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), out: r.stdout}
}

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name)
    out.push(p)
    if (fs.lstatSync(p).isDirectory()) out.push(...walk(p))
  }
  return out
}

const mode = (p: string): number => fs.lstatSync(p).mode & 0o7777

// Planted links: refused (73) naming the link, which stays; the victim never changes.

interface LinkCase {
  name: string
  /** Plants the link(s) in a fresh WAL; returns the commands to run with their expected exit code and the name the error must carry. */
  plant: (dir: string, v: Victim) => Array<{args: string[]; code: number; names?: string}>
  link: (dir: string) => string
}

const linkCases: LinkCase[] = [
  {
    name: 'the lock: .walctl.lock -> victim refuses every writer with exit 73, the link and the victim stay',
    plant: (dir, v) => {
      fs.symlinkSync(v.file, path.join(dir, '.walctl.lock'))
      return [
        {args: ['append', dir, 'x'], code: 73, names: '.walctl.lock'},
        {args: ['rotate', dir], code: 73, names: '.walctl.lock'},
        {args: ['gc', dir, '--keep', '1'], code: 73, names: '.walctl.lock'},
        {args: ['recover', dir], code: 73, names: '.walctl.lock'},
      ]
    },
    link: (dir) => path.join(dir, '.walctl.lock'),
  },
  {
    name: 'the lock: a dangling .walctl.lock -> a missing file is not created through the link',
    plant: (dir, v) => {
      fs.unlinkSync(v.file)
      fs.writeFileSync(v.file + '-kept', '')
      fs.symlinkSync(v.file, path.join(dir, '.walctl.lock'))
      return [{args: ['append', dir, 'x'], code: 73, names: '.walctl.lock'}]
    },
    link: (dir) => path.join(dir, '.walctl.lock'),
  },
  {
    name: 'a segment: wal_000002.log -> victim is a stray, never written through; a rotation onto its name is refused',
    plant: (dir, v) => {
      fs.symlinkSync(v.file, path.join(dir, 'wal_000002.log'))
      return [
        {args: ['append', dir, 'into-segment-1'], code: 0},
        {args: ['rotate', dir], code: 73, names: 'wal_000002.log'},
        {args: ['append', dir, 'r'.repeat(3990)], code: 73, names: 'wal_000002.log'},
        {args: ['gc', dir, '--keep', '1'], code: 0},
        {args: ['verify', dir], code: 0},
      ]
    },
    link: (dir) => path.join(dir, 'wal_000002.log'),
  },
  {
    name: 'a temporary: the --prometheus textfile -> victim is refused, not replaced',
    plant: (dir, v) => {
      const textfile = path.join(path.dirname(dir), 'walctl.prom')
      fs.symlinkSync(v.file, textfile)
      return [{args: ['verify', dir, '--prometheus', textfile], code: 73, names: 'walctl.prom'}]
    },
    link: (dir) => path.join(path.dirname(dir), 'walctl.prom'),
  },
  {
    name: 'a temporary: an archive target wal_000001.log -> victim refuses gc --archive, nothing removed',
    plant: (dir, v) => {
      const archive = path.join(path.dirname(dir), 'archive')
      fs.mkdirSync(archive)
      fs.symlinkSync(v.file, path.join(archive, 'wal_000001.log'))
      walctl(['rotate', dir])
      return [{args: ['gc', dir, '--keep', '1', '--archive', archive], code: 73, names: 'wal_000001.log'}]
    },
    link: (dir) => path.join(path.dirname(dir), 'archive', 'wal_000001.log'),
  },
  {
    name: 'quarantine -> a folder outside the WAL: recover refuses with 73, no copy leaves the WAL directory',
    plant: (dir, v) => {
      tornTail(dir)
      fs.symlinkSync(v.dir, path.join(dir, 'quarantine'))
      return [{args: ['recover', dir], code: 73, names: 'quarantine'}]
    },
    link: (dir) => path.join(dir, 'quarantine'),
  },
  {
    name: 'the archive folder -> a folder outside: gc --archive refuses with 73 (dry run too), nothing removed',
    plant: (dir, v) => {
      const archive = path.join(path.dirname(dir), 'archive')
      fs.symlinkSync(v.dir, archive)
      walctl(['rotate', dir])
      return [
        {args: ['gc', dir, '--keep', '1', '--archive', archive, '--dry-run'], code: 73, names: 'archive'},
        {args: ['gc', dir, '--keep', '1', '--archive', archive], code: 73, names: 'archive'},
      ]
    },
    link: (dir) => path.join(path.dirname(dir), 'archive'),
  },
]

for (const c of linkCases) {
  test(`planted link: ${c.name}`, (t) => {
    const dir = newWal()
    const v = victim()
    const runs = c.plant(dir, v)
    const segments = fs.readdirSync(dir).filter((n) => /^wal_\d+\.log$/.test(n) && fs.lstatSync(path.join(dir, n)).isFile())
    for (const run of runs) {
      const r = walctl(run.args, {timeoutMs: TIMEOUT})
      t.is(r.code, run.code, `${run.args.join(' ').slice(0, 200)}: ${r.stderr}`)
      if (run.code !== 0) {
        oneLine(t, r.stderr)
        t.true(r.stderr.includes(run.names!), r.stderr)
        t.regex(r.stderr, /symbolic link/)
      }
    }
    t.true(isLink(c.link(dir)), 'the link itself is left where it was')
    if (fs.existsSync(v.file)) victimUntouched(t, v)
    else t.deepEqual(fs.readdirSync(v.dir), ['victim-kept'], 'nothing was created through the dangling link')
    for (const n of segments) t.true(fs.lstatSync(path.join(dir, n)).isFile(), `${n} is still there`)
  })
}

test('planted link: verify lists wal_000002.log -> victim as a stray, not a segment', (t) => {
  const dir = newWal()
  const v = victim()
  fs.symlinkSync(v.file, path.join(dir, 'wal_000002.log'))
  const r = walctl(['verify', dir, '--json'])
  t.is(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as {segments: Array<{file: string}>; problems: Array<{file: string; kind: string}>}
  t.deepEqual(report.segments.map((s) => path.basename(s.file)), ['wal_000001.log'])
  t.true(report.problems.some((p) => p.kind === 'stray-file' && path.basename(p.file) === 'wal_000002.log'), r.stdout)
  victimUntouched(t, v)
})

// FIFOs: nothing blocks on one, nothing writes into one.

test('a FIFO as the lock: every writer refuses at once with exit 73 naming it, no hang', (t) => {
  const dir = newWal()
  mkfifo(path.join(dir, '.walctl.lock'))
  // A writer blocked on the FIFO would be killed by the timeout, and walctl() would throw.
  for (const args of [['append', dir, 'x'], ['rotate', dir], ['gc', dir, '--keep', '1']]) {
    const r = walctl(args, {timeoutMs: TIMEOUT})
    t.is(r.code, 73, r.stderr)
    oneLine(t, r.stderr)
    t.regex(r.stderr, /\.walctl\.lock: refusing to use the writer lock: it is a FIFO/)
  }
  t.true(fs.lstatSync(path.join(dir, '.walctl.lock')).isFIFO(), 'the FIFO stays')
})

test('a FIFO as a segment: wal_000002.log is a stray; append, verify, dump and gc finish, a rotation onto it is refused', (t) => {
  const dir = newWal()
  const fifo = path.join(dir, 'wal_000002.log')
  mkfifo(fifo)
  const runs: Array<[string[], number]> = [
    [['append', dir, 'x'], 0],
    [['verify', dir], 0],
    [['dump', dir, '--format', 'jsonl'], 0],
    [['gc', dir, '--keep', '1'], 0],
    [['rotate', dir], 73],
  ]
  for (const [args, code] of runs) {
    const r = walctl(args, {timeoutMs: TIMEOUT})
    t.is(r.code, code, `${args.join(' ')}: ${r.stderr}`)
  }
  t.true(fs.lstatSync(fifo).isFIFO(), 'the FIFO stays')
})

// Owners and modes.

test('segments of uid 65534, mode 0600: repaired and rotated as root, they keep owner and mode; the service user appends afterwards', (t) => {
  const dir = newWal()
  tornTail(dir)
  for (const p of [dir, ...walk(dir)]) fs.chownSync(p, NOBODY, NOBODY)
  fs.chmodSync(dir, 0o700)
  fs.chmodSync(segPath(dir, 1), 0o600)

  const recovered = walctl(['recover', dir])
  t.is(recovered.code, 0, recovered.stderr)
  const seg = fs.statSync(segPath(dir, 1))
  t.deepEqual([seg.uid, seg.gid, seg.mode & 0o7777], [NOBODY, NOBODY, 0o600], 'the rewritten segment keeps owner, group and mode')
  const [stamp] = fs.readdirSync(path.join(dir, 'quarantine'))
  const qdir = path.join(dir, 'quarantine', stamp)
  for (const d of [path.join(dir, 'quarantine'), qdir]) {
    t.is(mode(d) & ~0o700, 0, `${d} is no wider than the WAL directory (0700)`)
  }
  const copy = fs.statSync(path.join(qdir, 'wal_000001.log'))
  t.deepEqual([copy.uid, copy.gid, copy.mode & 0o7777], [NOBODY, NOBODY, 0o400], 'the quarantine copy is read-only and keeps its owner')

  const rotated = walctl(['rotate', dir])
  t.is(rotated.code, 0, rotated.stderr)
  t.is(rotated.stderr, '')
  const next = fs.statSync(segPath(dir, 2))
  t.deepEqual([next.uid, next.gid, next.mode & 0o7777], [NOBODY, NOBODY, 0o600], 'the new segment takes the newest segment\'s owner and mode')

  const appended = walctl(['append', dir, 'by-the-service'], asNobody())
  t.is(appended.code, 0, appended.stderr)
  t.is(appended.stdout.trim(), '2:89')
  const rotatedByService = walctl(['append', dir, 'r'.repeat(3990)], asNobody())
  t.is(rotatedByService.code, 0, rotatedByService.stderr)
  t.is(fs.statSync(segPath(dir, 3)).uid, NOBODY)
  t.is(walctl(['verify', dir], asNobody()).code, 0)
  t.false(fs.existsSync(path.join(dir, '.walctl.lock')))
})

test('a user who cannot give a new segment the WAL\'s owner says so on stderr, in one line', (t) => {
  const dir = newWal()
  const other = 4242
  fs.chownSync(segPath(dir, 1), other, other)
  fs.chmodSync(dir, 0o777)
  fs.chmodSync(segPath(dir, 1), 0o666)
  const r = walctl(['rotate', dir], asNobody())
  t.is(r.code, 0, r.stderr)
  oneLine(t, r.stderr)
  t.regex(r.stderr, /wal_000002\.log: cannot give it owner 4242:4242 .*only root can.*owned by 65534:65534/)
  t.is(mode(segPath(dir, 2)), 0o666, 'the mode is still the newest segment\'s')
})

for (const umask of ['000', '022', '077']) {
  test(`umask ${umask}: nothing walctl creates (WAL directory, segments, quarantine, archive) is group- or world-writable`, (t) => {
    const root = tempDir('walctl-umask-')
    const dir = path.join(root, 'parent', 'wal')
    const archive = path.join(root, 'archive', 'deep')
    const steps: string[][] = [['init', dir, '--segment-size', '4096'], ['append', dir, 'a', 'b'], ['rotate', dir], ['append', dir, 'c']]
    for (const args of steps) t.is(walctlUmask(umask, args).code, 0, args.join(' '))
    tornTail(dir)
    for (const args of [['recover', dir], ['gc', dir, '--keep', '1', '--archive', archive], ['verify', dir, '--prometheus', path.join(root, 'walctl.prom')]]) {
      const r = walctlUmask(umask, args)
      t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    }
    const made = [path.join(root, 'parent'), dir, ...walk(dir), path.join(root, 'archive'), ...walk(path.join(root, 'archive')), path.join(root, 'walctl.prom')]
    t.true(made.some((p) => p.includes('quarantine')) && fs.readdirSync(archive).includes('wal_000001.log'))
    for (const p of made) t.is(mode(p) & 0o022, 0, `${p} is ${mode(p).toString(8)}`)
    if (umask === '077') for (const p of made) t.is(mode(p) & 0o077, 0, `${p} is ${mode(p).toString(8)} under umask 077`)
    for (const p of walk(dir).filter((p) => fs.lstatSync(p).isDirectory())) t.is(mode(p) & ~mode(dir), 0, `${p} is no wider than the WAL directory`)
  })
}

// gc: records never replayed, and what the operator protected.

interface GcCase {
  name: string
  damage: (wal: ReturnType<typeof buildWal>) => void
  args: (dir: string) => string[]
  says: RegExp
}

const flipCrc = (wal: ReturnType<typeof buildWal>, i: number): void => {
  const p = wal.positions[i]
  const fd = fs.openSync(segPath(wal, p.segment), 'r+')
  fs.writeSync(fd, Buffer.from([0xde, 0xad]), 0, 2, p.offset + 4)
  fs.closeSync(fd)
}

const gcCases: GcCase[] = [
  {
    name: 'a damaged first record: the segment holds damage and 7 records found only past it (--keep)',
    damage: (w) => flipCrc(w, 0),
    args: (dir) => ['gc', dir, '--keep', '1'],
    says: /wal_000001\.log: offset 89: refusing to remove wal_000001\.log: it holds damage at offset 89 \(crc-mismatch.*and 7 record\(s\) found only past damage/,
  },
  {
    name: 'damage in the middle of segment 2, records resynced past it (--upto)',
    damage: (w) => flipCrc(w, 11),
    args: (dir) => ['gc', dir, '--upto', '3:89'],
    says: /refusing to remove wal_000002\.log: it holds damage at offset 233 .*and 4 record\(s\) found only past damage/,
  },
  {
    name: 'a read-only segment (chmod a-w): what an operator protected',
    damage: (w) => fs.chmodSync(segPath(w, 1), 0o444),
    args: (dir) => ['gc', dir, '--keep', '1'],
    says: /wal_000001\.log: refusing to remove wal_000001\.log: it has no write permission \(mode 0444\)/,
  },
]

for (const c of gcCases) {
  test(`gc refuses ${c.name}: exit 2 naming it, dry run the same, nothing removed; --force removes`, (t) => {
    const wal = buildWal(20)
    c.damage(wal)
    const before = snapshot(wal.dir)
    for (const extra of [[], ['--dry-run']]) {
      const r = walctl([...c.args(wal.dir), ...extra])
      t.is(r.code, 2, r.stderr)
      oneLine(t, r.stderr)
      t.regex(r.stderr, c.says)
      t.regex(r.stderr, /nothing was removed; .*--force/)
      t.deepEqual(snapshot(wal.dir), before)
    }
    const forced = walctl([...c.args(wal.dir), '--force'])
    t.is(forced.code, 0, forced.stderr)
    t.regex(forced.stderr, /--force: removed despite: wal_00000\d\.log (holds damage|has no write permission)/)
    t.false(fs.existsSync(segPath(wal, 1)))
  })
}

test('gc --archive temporaries: a leftover of a killed gc of its own is removed; any other file, whatever its name, stays', (t) => {
  const wal = buildWal(20)
  const archive = path.join(tempDir('walctl-archive-'), 'a')
  fs.mkdirSync(archive)
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'))
  const deadPid = pidMax + 1
  const leftover = path.join(archive, `.wal_000001.log.walctl-${deadPid}-0123456789abcdef.tmp`)
  const others: Record<string, string> = {
    'wal_000001.log.123.tmp': 'a file named like the old temporaries',
    [`.wal_000002.log.walctl-${process.pid}-0123456789abcdef.tmp`]: 'a live process\'s',
    'notes.txt': 'the operator\'s notes',
  }
  fs.writeFileSync(leftover, Buffer.alloc(512))
  for (const [name, text] of Object.entries(others)) fs.writeFileSync(path.join(archive, name), text)
  const foreign = path.join(archive, `.wal_000002.log.walctl-${deadPid}-fedcba9876543210.tmp`)
  fs.writeFileSync(foreign, 'another user\'s')
  fs.chownSync(foreign, NOBODY, NOBODY)

  const r = walctl(['gc', wal.dir, '--keep', '1', '--archive', archive])
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /note: removed 1 temporary file\(s\) left in .* by an interrupted gc --archive/)
  t.false(fs.existsSync(leftover))
  for (const [name, text] of Object.entries(others)) t.is(fs.readFileSync(path.join(archive, name), 'utf8'), text, name)
  t.is(fs.readFileSync(foreign, 'utf8'), 'another user\'s')
  t.deepEqual(fs.readdirSync(archive).filter((n) => /^wal_\d+\.log$/.test(n)).sort(), ['wal_000001.log', 'wal_000002.log'])
  t.regex(r.stdout, /^wal_000001\.log  512 B  archived to \S+: older than --keep 1 /m)
})

// The lock holds no data.

for (const c of [{name: 'the WAL directory in walctl\'s own group: 0600', group: 0, mode: 0o600}, {name: 'the WAL directory in the service\'s group: 0640 and that group', group: NOBODY, mode: 0o640}]) {
test(`the lock names the subcommand only, an argument nowhere in it nor in the exit-75 message; ${c.name}`, async (t) => {
  const dir = newWal()
  fs.chownSync(dir, 0, c.group)
  const secret = 's3cr3t-payload-4711'
  const child = spawn(process.execPath, [BIN, 'append', dir, secret, '--stdin', '--batch-ms', '0', '--batch-records', '987654'], {env: {...process.env, NO_COLOR: '1'}})
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stdin.write('one\n')
  const lockFile = path.join(dir, '.walctl.lock')
  try {
    for (let i = 0; i < 500 && !out.includes('1:'); i++) await new Promise((r) => setTimeout(r, 20))
    t.true(fs.existsSync(lockFile), 'the holder holds the lock')
    t.is(mode(lockFile), c.mode)
    t.is(fs.statSync(lockFile).gid, c.group)
    const text = fs.readFileSync(lockFile, 'utf8')
    t.is(JSON.parse(text).command, 'walctl append')
    t.false(text.includes(secret) || text.includes('987654'), text)
    const refused = await walctlAsync(['append', dir, 'other'])
    t.is(refused.code, 75)
    oneLine(t, refused.stderr)
    t.regex(refused.stderr, /\('walctl append', since /)
    t.false(refused.stderr.includes(secret) || refused.stderr.includes('987654'), refused.stderr)
  } finally {
    child.stdin.end()
    await exited
  }
  t.false(fs.existsSync(lockFile))
})
}

// Names safe to read and to paste.

for (const name of ['wal\nsecond line \u001b[31mred', 'inj$(touch MARK)\'s']) {
  test(`a WAL directory named ${JSON.stringify(name)}: one-line diagnostics, a single-quoted suggestion that runs exactly walctl`, (t) => {
    const root = tempDir('walctl-names-')
    const dir = path.join(root, name)
    const init = walctl(['init', dir, '--segment-size', '4096'], {cwd: root})
    t.is(init.code, 0, init.stderr)
    oneLine(t, init.stdout)
    t.is(walctl(['append', dir, 'a', 'b']).code, 0)
    tornTail(dir)
    const verify = walctl(['verify', dir], {cwd: root})
    t.is(verify.code, 1, verify.stderr)
    t.false(verify.stdout.includes('\u001b'), 'no terminal escape reaches the terminal')
    const lines = verify.stdout.trimEnd().split('\n')
    // The problem, the verdict, the suggestion: one line each.
    t.is(lines.length, 3, verify.stdout)
    t.is(lines[2], `repair without losing a complete record: walctl recover ${shellQuote(escapeName(dir))} (--dry-run shows the plan)`)
    const missing = walctl(['verify', path.join(dir, 'wal_000009.log')])
    t.true(missing.code >= 64, missing.stderr)
    oneLine(t, missing.stderr)
    t.true(missing.stderr.includes(escapeName(dir)), missing.stderr)
    // Pasting the suggestion into a shell runs walctl on that directory and nothing else.
    const suggestion = lines[2].replace(/^.*?: walctl /, '').replace(/ \(--dry-run.*$/, '')
    const pasted = spawnSync('sh', ['-c', `"$0" "$1" ${suggestion}`, process.execPath, BIN], {cwd: root, env: {...process.env, NO_COLOR: '1'}})
    t.false(fs.existsSync(path.join(root, 'MARK')), 'no command substitution ran')
    if (name.includes('\n')) {
      t.is(pasted.status, 66, 'the escaped name names no directory: nothing happens')
    } else {
      t.is(pasted.status, 0, pasted.stderr.toString())
      t.is(walctl(['verify', dir]).code, 0, 'the pasted command repaired that WAL')
    }
  })
}

test('recover --mode salvage replacing a missing middle segment of uid 65534 gives the new one the newest segment\'s owner and mode', (t) => {
  const wal = buildWal(20)
  fs.chmodSync(path.dirname(wal.dir), 0o755)
  for (const p of [wal.dir, ...walk(wal.dir)]) {
    fs.chownSync(p, NOBODY, NOBODY)
    if (p !== wal.dir) fs.chmodSync(p, 0o640)
  }
  fs.unlinkSync(segPath(wal, 2))
  const r = walctl(['recover', wal.dir, '--mode', 'salvage'])
  t.is(r.code, 0, r.stderr)
  t.is(r.stderr, '')
  for (const id of [1, 2, 3]) {
    const st = fs.statSync(segPath(wal, id))
    t.deepEqual([st.uid, st.gid, st.mode & 0o7777], [NOBODY, NOBODY, 0o640], `wal_00000${id}.log`)
  }
  t.is(walctl(['append', wal.dir, 'after'], asNobody()).code, 0)
})
