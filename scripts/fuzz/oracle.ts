// The checks run on every fuzz case: the WAL is written to a directory, then
// verify, dump and each recover mode run on it through the library (a sample
// also through bin/run.js), and every promise of issue 11 is checked.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {parseSegmentFileName} from '../../src/core/format/names.js'
import {walctl} from '../../test/helpers/cli.js'
import {shardexOpen} from '../../test/helpers/corrupt.js'
import {append, dump, MODES, RecoverMode, recover, SeenRecord, verify, Verified, walErrorCode} from './adapter.js'
import {FuzzCase, truthKey} from './generate.js'

export interface Failure {
  check: string
  detail: string
}

export interface CaseOutcome {
  id: string
  failures: Failure[]
  verdict: string
  records: number
  resynced: number
  /** Resynced records that were never written at their position (allowed, but counted). */
  inventedResynced: number
  exitCodes: Record<string, number>
  cli: boolean
  ms: number
  /** CPU time of the worker for the case (bin/run.js children not included). */
  cpuMs: number
}

/** Exit codes a library WalError may carry (README); 70 is never one. */
const LIBRARY_CODES = new Set([1, 2, 64, 65, 66, 73, 74, 75])
/** Exit codes `verify` and `dump --format jsonl` may end with on any bytes. */
export const CLI_CODES = new Set([0, 1, 2, 65, 66, 73, 74])
/** Files are written with this mtime, so that a rewrite within the same millisecond still shows. */
const OLD = new Date('2026-01-01T00:00:00Z')

type Snapshot = Map<string, {bytes: Buffer; mtimeMs: number}>

function snapshot(dir: string): Snapshot {
  const out: Snapshot = new Map()
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name)
      const st = fs.lstatSync(p)
      if (st.isDirectory()) walk(p)
      else out.set(path.relative(dir, p), {bytes: fs.readFileSync(p), mtimeMs: st.mtimeMs})
    }
  }
  walk(dir)
  return out
}

/** What differs between two snapshots (at most a few names), or '' when nothing does. */
function diff(a: Snapshot, b: Snapshot, skip: (name: string) => boolean = () => false): string {
  const out: string[] = []
  for (const [name, x] of a) {
    if (skip(name)) continue
    const y = b.get(name)
    if (!y) out.push(`${name} removed`)
    else if (!x.bytes.equals(y.bytes)) out.push(`${name} bytes changed`)
    else if (x.mtimeMs !== y.mtimeMs) out.push(`${name} mtime changed`)
  }
  for (const name of b.keys()) if (!a.has(name) && !skip(name)) out.push(`${name} created`)
  return out.slice(0, 4).join(', ') + (out.length > 4 ? ` and ${out.length - 4} more` : '')
}

export function writeWal(c: FuzzCase, dir: string): void {
  fs.mkdirSync(dir, {recursive: true})
  for (const [name, bytes] of c.files) {
    const p = path.join(dir, name)
    fs.writeFileSync(p, bytes)
    fs.utimesSync(p, OLD, OLD)
  }
}

const same = (a: SeenRecord, b: SeenRecord): boolean => a.length === b.length && a.crc === b.crc && a.payload.equals(b.payload)

/** Index in `small` of the first record that is not, in order, in `big`; -1 when all are. */
function notSubsequence(small: SeenRecord[], big: SeenRecord[]): number {
  let j = 0
  for (let i = 0; i < small.length; i++) {
    while (j < big.length && !same(small[i], big[j])) j++
    if (j === big.length) return i
    j++
  }
  return -1
}

const where = (r: SeenRecord): string => `${r.file}@${r.offset} (${r.length} bytes${r.resynced ? ', resynced' : ''})`

class Checker {
  readonly failures: Failure[] = []
  constructor(readonly step: (s: string) => void) {}

  fail(check: string, detail: string): void {
    this.failures.push({check, detail})
  }

  /** Runs one library call: a WalError is an answer (its code must be documented), anything else a failure. */
  guard<T>(op: string, fn: () => T): {value?: T; code?: number; message?: string} {
    this.step(op)
    try {
      return {value: fn()}
    } catch (error) {
      const code = walErrorCode(error)
      const e = error as Error
      if (code === undefined) this.fail('exception', `${op}: ${e?.name ?? typeof error}: ${String(e?.message ?? error).split('\n')[0]} ${(e?.stack ?? '').split('\n').find((l) => l.includes('/src/')) ?? ''}`.trim())
      else if (code === 70) this.fail('exit-70', `${op}: ${e.message}`)
      else if (!LIBRARY_CODES.has(code)) this.fail('bad-exit', `${op}: exit ${code}: ${e.message}`)
      return {code, message: e?.message}
    }
  }
}

/**
 * A clean WAL whose segments are too small for this payload (a lone segment cut short tells the WAL's size)
 * rightly refuses it: exit 65 naming the segment size, which is the newest segment file's.
 */
function tooLargeForSegments(dir: string, payload: Buffer, code: number, message = ''): boolean {
  const m = /larger than a segment of (\d+) bytes can hold \(at most (-?\d+)\)/.exec(message)
  if (code !== 65 || !m) return false
  const newest = fs.readdirSync(dir).filter((n) => /^wal_\d{6,}\.log$/.test(n)).sort().at(-1)
  const size = newest === undefined ? -1 : fs.statSync(path.join(dir, newest)).size
  return Number(m[1]) === size && payload.length > Number(m[2]) && Number(m[2]) === size - 97
}

/**
 * One record appended: it must be listed where append said, after every record listed before, with nothing
 * else changed; on a clean WAL append must take it.
 */
function checkAppend(k: Checker, dir: string, before: Verified, label: string, payload: Buffer): void {
  const a = k.guard(`append ${label}`, () => append(dir, payload))
  if (!a.value) {
    if (before.verdict === 'clean' && a.code !== undefined && !tooLargeForSegments(dir, payload, a.code, a.message)) k.fail('append-refused', `verify says clean but append ${label} failed with exit ${a.code}: ${a.message}`)
    return
  }
  const v = k.guard(`verify after append ${label}`, () => verify(dir))
  if (!v.value) return
  const after = v.value.records
  const last = after[after.length - 1]
  const at = `${a.value.file}@${a.value.offset}`
  if (!last || `${last.file}@${last.offset}` !== at || !last.payload.equals(payload) || after.length !== before.records.length + 1 || notSubsequence(before.records, after) >= 0) {
    k.fail('append-lost', `append ${label} returned ${at}; verify then lists ${after.length} records (${before.records.length} before), the last ${last ? where(last) : 'none'}`)
  }
  if (before.verdict === 'clean' && v.value.verdict !== 'clean') k.fail('append-lost', `append ${label} on a clean WAL left it ${v.value.verdict}`)
}

function checkRecover(k: Checker, c: FuzzCase, root: string, mode: RecoverMode, before: Verified | undefined, exitCodes: Record<string, number>): void {
  const dir = path.join(root, mode, 'wal')
  writeWal(c, dir)
  const original = snapshot(dir)
  const inQuarantine = (n: string): boolean => n.startsWith(`quarantine${path.sep}`)
  const first = k.guard(`recover --mode ${mode}`, () => recover(dir, mode))
  exitCodes[mode] = first.value?.exitCode ?? first.code ?? -1
  if (fs.existsSync(path.join(dir, '.walctl.lock'))) k.fail('lock-left', `recover --mode ${mode} left .walctl.lock behind`)
  const r = first.value
  if (!r) return
  if (r.exitCode !== 0 && r.exitCode !== 2) k.fail('recover-exit', `recover --mode ${mode} exited ${r.exitCode}`)
  // Recover exits 0 when the WAL is clean afterwards or already was; tolerate-tail repairs a repairable WAL.
  if (r.exitCode !== 0 && (before?.verdict === 'clean' || (before?.verdict === 'repairable' && mode === 'tolerate-tail'))) {
    k.fail('recover-refused', `verify says ${before.verdict} but recover --mode ${mode} exited ${r.exitCode}: ${r.refused ?? 'still not clean'}`)
  }
  const after = snapshot(dir)
  for (const q of r.quarantined) {
    const orig = original.get(q.file)
    if (orig && (!fs.existsSync(q.copy) || !fs.readFileSync(q.copy).equals(orig.bytes))) k.fail('quarantine-differs', `recover --mode ${mode}: ${path.relative(dir, q.copy)} is not the original ${q.file}`)
  }
  if (r.exitCode === 2) {
    const d = diff(original, after, inQuarantine)
    if (d || r.changed) k.fail('refusal-changed', `recover --mode ${mode} exited 2 (${r.refused ?? 'still not clean'}) but changed the WAL: ${d || 'changed: true'}`)
    return
  }
  if (r.exitCode !== 0) return
  const v = k.guard(`verify after recover --mode ${mode}`, () => verify(dir))
  if (!v.value) return
  if (v.value.verdict !== 'clean') k.fail('recover-not-clean', `recover --mode ${mode} exited 0 but verify says ${v.value.verdict}`)
  else if (fs.readdirSync(dir).every((n) => !/^wal_\d{6,}\.log$/.test(n) || parseSegmentFileName(n) !== undefined)) {
    // walctl leaves wal_000000.log and wal_0000001.log alone as strays (Shardex counts ids from 1 and names
    // them with 6 digits); the Shardex-style reader would take them for segments.
    const open = shardexOpen(dir)
    if (open.errors.length > 0) k.fail('shardex-rejects', `after recover --mode ${mode}: ${open.errors.slice(0, 2).join('; ')}`)
  }
  if (before) {
    const kept = v.value.records
    const extra = notSubsequence(kept, before.records)
    if (extra >= 0) k.fail('recover-invented', `after recover --mode ${mode}, ${where(kept[extra])} was not listed by verify before`)
    if (mode === 'point-in-time') {
      const bad = kept.findIndex((r, i) => !before.records[i] || !same(r, before.records[i]))
      if (bad >= 0) k.fail('pit-not-prefix', `point-in-time kept ${where(kept[bad])}, which is not record ${bad} listed before`)
    } else {
      const lost = notSubsequence(before.records, kept)
      if (lost >= 0) k.fail(`${mode}-dropped`, `recover --mode ${mode} exited 0 but lost ${where(before.records[lost])}, listed as valid by verify (${kept.length} of ${before.records.length} records left)`)
    }
  }
  const second = k.guard(`second recover --mode ${mode}`, () => recover(dir, mode))
  const again = snapshot(dir)
  const d = diff(after, again)
  if (second.value && (second.value.changed || second.value.exitCode !== 0 || d)) k.fail('second-recover-changed', `a second recover --mode ${mode}: exit ${second.value.exitCode}, changed ${second.value.changed}${d ? `, ${d}` : ''}`)
  // The newest segment takes appends after a repair (one mode per case keeps cases cheap).
  if (MODES[c.index % MODES.length] === mode && v.value.verdict === 'clean') checkAppend(k, dir, v.value, `after recover --mode ${mode}`, appendPayload(c))
}

const appendPayload = (c: FuzzCase): Buffer => Buffer.from(`fuzz-append ${c.id}`)

function checkCli(k: Checker, dir: string, lib: Verified | undefined): void {
  const before = snapshot(dir)
  for (const args of [['verify', dir], ['dump', dir, '--format', 'jsonl']]) {
    const cmd = args[0] === 'verify' ? 'bin/run.js verify' : 'bin/run.js dump --format jsonl'
    k.step(cmd)
    let code: number
    try {
      code = walctl(args, {timeoutMs: 30_000}).code
    } catch (error) {
      k.fail('cli-hang', `${cmd}: ${(error as Error).message}`)
      continue
    }
    if (code === 70) k.fail('exit-70', `${cmd} exited 70`)
    else if (!CLI_CODES.has(code)) k.fail('cli-exit', `${cmd} exited ${code}, not one of ${[...CLI_CODES].join(',')}`)
    if (args[0] === 'verify' && lib && code <= 2 && code !== lib.exitCode) k.fail('cli-verify-disagrees', `${cmd} exited ${code}, the library's verdict is ${lib.verdict} (${lib.exitCode})`)
  }
  const d = diff(before, snapshot(dir))
  if (d) k.fail('cli-wrote', `verify or dump through bin/run.js changed the WAL: ${d}`)
}

export function runCase(c: FuzzCase, root: string, options: {cli: boolean; step?: (s: string) => void}): CaseOutcome {
  const started = performance.now()
  const cpu = process.cpuUsage()
  const k = new Checker(options.step ?? (() => {}))
  const dir = path.join(root, 'read', 'wal')
  writeWal(c, dir)
  const snap = snapshot(dir)
  const exitCodes: Record<string, number> = {}
  const v = k.guard('verify', () => verify(dir))
  const before = v.value
  exitCodes.verify = before?.exitCode ?? v.code ?? -1
  let d = diff(snap, snapshot(dir))
  if (d) k.fail('verify-wrote', d)
  let inventedResynced = 0
  if (before) {
    const truth = new Set(c.truth.map((r) => truthKey(r.file, r.offset, r.length, r.crc)))
    // A mutation that copies bytes of the WAL elsewhere (dup, insert of a copy) moves whatever record-shaped
    // fragments they hold, a payload's embedded record included: at its new place such a fragment can be a valid
    // leading record, which no reader could tell from an appended one (its header was copied there; the rest may be
    // bytes a repeating payload makes identical). It was moved there, not made up by walctl.
    const movedHere = (r: {file: string; offset: number; length: number}): boolean =>
      (c.moved ?? []).some((m) => m.file === r.file && m.from <= r.offset && r.offset + 8 <= m.to)
    for (const r of before.records) {
      if (truth.has(truthKey(r.file, r.offset, r.length, r.crc))) continue
      if (movedHere(r)) continue
      if (r.resynced) inventedResynced++
      else k.fail('invented-plain', `verify lists ${where(r)} as a plain valid record; no record was written there`)
    }
    if (c.mutations.length === 0 && (before.verdict !== 'clean' || before.records.length !== c.appended)) {
      k.fail('unmutated-not-clean', `an unmutated WAL of ${c.appended} records: verify says ${before.verdict} with ${before.records.length} records`)
    }
  }
  const dumped = k.guard('dump', () => dump(dir))
  d = diff(snap, snapshot(dir))
  if (d) k.fail('dump-wrote', d)
  if (before && dumped.value) {
    const a = before.records
    const b = dumped.value
    const bad = Math.max(a.length, b.length) === 0 ? -1 : a.findIndex((r, i) => !b[i] || r.file !== b[i].file || r.offset !== b[i].offset || r.resynced !== b[i].resynced || !same(r, b[i]))
    if (bad >= 0 || a.length !== b.length) k.fail('dump-vs-verify', `dump lists ${b.length} records, verify ${a.length}; first difference at record ${bad >= 0 ? bad : Math.min(a.length, b.length)}`)
  }
  for (const mode of MODES) checkRecover(k, c, root, mode, before, exitCodes)
  if (options.cli) checkCli(k, dir, before)
  if (before) checkAppend(k, dir, before, 'to the mutated WAL', appendPayload(c))
  return {
    id: c.id,
    failures: k.failures,
    verdict: before?.verdict ?? `error ${v.code}`,
    records: before?.records.length ?? 0,
    resynced: before?.records.filter((r) => r.resynced).length ?? 0,
    inventedResynced,
    exitCodes,
    cli: options.cli,
    ms: performance.now() - started,
    cpuMs: (({user, system}) => (user + system) / 1000)(process.cpuUsage(cpu)),
  }
}
