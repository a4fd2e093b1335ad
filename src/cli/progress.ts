// A progress bar on stderr for long work (verify, recover, dump --stats, gc).
// Shown only when stderr is a terminal, the work is long (many segments or
// many bytes) and the output is not JSON: never in a pipe, a log or a cron
// mail. stdout is left alone; the bar's line is erased when the work ends.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {listWal, resolveWalDir} from '../core/read/directory.js'
import {formatBytes} from '../core/format/units.js'

/** Work at least this large is "long": worth a bar. */
export const LONG_WORK = {bytes: 64 * 1024 * 1024, segments: 64}
/** Redraw at most this often; a terminal is slow next to a scan. */
const FRAME_MS = 100

export interface Work {
  segments: number
  bytes: number
}

export interface ProgressOptions {
  /** What is being done: `verify`, `recover`... */
  label: string
  total: Work
  json: boolean
  stream?: NodeJS.WriteStream
}

/** Segments and bytes a WAL path (directory, index root or one segment) holds; zero when it cannot be read (the command itself reports that). */
export function measureWal(input: string): Work {
  try {
    const abs = path.resolve(input)
    if (fs.statSync(abs).isFile()) return {segments: 1, bytes: fs.statSync(abs).size}
    const {segments} = listWal(resolveWalDir(abs))
    return {segments: segments.length, bytes: segments.reduce((n, s) => n + s.size, 0)}
  } catch {
    return {segments: 0, bytes: 0}
  }
}

export function isLongWork(total: Work): boolean {
  return total.bytes >= LONG_WORK.bytes || total.segments >= LONG_WORK.segments
}

export function progressWanted(options: {isTTY: boolean; json: boolean; total: Work; env?: NodeJS.ProcessEnv}): boolean {
  if (!options.isTTY || options.json) return false
  if ((options.env ?? process.env).TERM === 'dumb') return false
  return isLongWork(options.total)
}

export class Progress {
  readonly shown: boolean
  private readonly stream: NodeJS.WriteStream
  private readonly label: string
  private readonly total: Work
  private done: Work = {segments: 0, bytes: 0}
  private lastFrame = 0
  private drawn = false

  private constructor(options: ProgressOptions, shown: boolean) {
    this.stream = options.stream ?? process.stderr
    this.label = options.label
    this.total = options.total
    this.shown = shown
    if (shown) this.draw()
  }

  /** A bar when `progressWanted` says so, else one that does nothing. */
  static start(options: ProgressOptions): Progress {
    const stream = options.stream ?? process.stderr
    return new Progress(options, progressWanted({isTTY: Boolean(stream.isTTY), json: options.json, total: options.total}))
  }

  /** Records finished work: bytes and (whole) segments. */
  advance(bytes: number, segments = 0): void {
    if (!this.shown) return
    this.done = {bytes: this.done.bytes + bytes, segments: this.done.segments + segments}
    const now = Date.now()
    if (now - this.lastFrame >= FRAME_MS) this.draw(now)
  }

  /** Erases the bar; whatever is printed next starts on a clean line. */
  finish(): void {
    if (!this.shown || !this.drawn) return
    this.stream.write('\r\x1b[K')
    this.drawn = false
  }

  private draw(now = Date.now()): void {
    this.lastFrame = now
    this.drawn = true
    this.stream.write(`\r\x1b[K${renderBar(this.label, this.done, this.total, this.stream.columns || 80)}`)
  }
}

/** One line, at most `columns - 1` wide: `verify [=====>    ]  42%  27/64 segments  1.2 MiB/4.0 MiB`. */
export function renderBar(label: string, done: Work, total: Work, columns: number): string {
  const fraction = total.bytes > 0 ? Math.min(1, done.bytes / total.bytes) : total.segments > 0 ? Math.min(1, done.segments / total.segments) : 0
  const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`
  const counts = `${done.segments}/${total.segments} segments  ${formatBytes(done.bytes)}/${formatBytes(total.bytes)}`
  const fixed = `${label} [] ${pct}  ${counts}`
  const width = Math.max(10, Math.min(40, columns - 1 - fixed.length))
  const filled = Math.round(fraction * width)
  const bar = filled >= width ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1)
  return `${label} [${bar}] ${pct}  ${counts}`.slice(0, Math.max(1, columns - 1))
}

/** A bar over a whole WAL path; the path is measured only when a bar could be shown at all. */
export function startWalProgress(label: string, input: string, json: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  const couldShow = Boolean(stream.isTTY) && !json
  return Progress.start({label, total: couldShow ? measureWal(input) : {segments: 0, bytes: 0}, json, stream})
}

/** `visitor` with each finished segment (`segmentEnd`) also counted on `progress`. */
export function trackSegments<T extends object>(visitor: T, progress: Progress): T {
  if (!progress.shown) return visitor
  return new Proxy(visitor, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown
      if (prop === 'segmentEnd') {
        return (s: {size: number}) => {
          if (typeof value === 'function') value.call(target, s)
          progress.advance(s.size, 1)
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
