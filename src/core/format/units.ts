// Human sizes and durations on the command line: parsed only here.

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

/** `4096`, `64KiB`, `1MiB`, `1M`, `2g`: binary multiples, case-insensitive. Undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text)
  if (!m) return undefined
  const unit = SIZE_UNITS[m[2].toLowerCase()]
  if (unit === undefined) return undefined
  const value = Number(m[1]) * unit
  return Number.isSafeInteger(value) ? value : undefined
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** `500ms`, `30s`, `15m`, `12h`, `7d`, `2w`, or a sequence like `1h30m`. Milliseconds, or undefined. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === '') return undefined
  let total = 0
  let rest = trimmed
  while (rest.length > 0) {
    const m = /^(\d+)(ms|s|m|h|d|w)/.exec(rest)
    if (!m) return undefined
    total += Number(m[1]) * DURATION_UNITS[m[2]]
    rest = rest.slice(m[0].length)
  }
  return total
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = -1
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`
}
