// "Did you mean": the known word nearest to a mistyped one, for commands,
// flags and flag values alike.

/** Levenshtein distance between two words. */
export function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}

/**
 * The known words `typed` most likely meant: those it starts (up to three), else
 * the nearest one within a third of its length (at least 2 edits).
 */
export function closest(typed: string, known: readonly string[]): string[] {
  if (typed.length === 0) return []
  const prefixed = known.filter((k) => k.startsWith(typed) && k !== typed).sort()
  if (prefixed.length > 0) return prefixed.slice(0, 3)
  const near = known
    .map((k) => ({k, d: distance(typed, k)}))
    .filter(({k, d}) => d > 0 && d <= Math.max(2, Math.floor(k.length / 3)))
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
  return near.slice(0, 1).map(({k}) => k)
}

/** `; did you mean 'a' or 'b'?`, or nothing when nothing is close. */
export function didYouMean(typed: string, known: readonly string[]): string {
  const found = closest(typed, known)
  return found.length === 0 ? '' : `; did you mean ${found.map((k) => `'${k}'`).join(' or ')}?`
}

/** A message and where to read more, one line: `...; see X`, or `...? See X` after a question. */
export function withHelp(message: string, help: string): string {
  return message.endsWith('?') ? `${message} ${help[0].toUpperCase()}${help.slice(1)}` : `${message}; ${help}`
}
