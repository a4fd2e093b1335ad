// oclif's parse errors are written for a screen (several lines, wrapped
// descriptions); walctl prints every error as one line. This folds them.

/** One line for an oclif parse error's message. */
export function foldUsageMessage(message: string): string {
  const lines = message.split('\n')
  const kept: string[] = []
  for (const line of lines) {
    const text = line.trim()
    if (text === '' || /^See more help with/.test(text) || /^Alternatively, you can use "--"/.test(text)) continue
    // A wrapped description continues the line before it.
    if (/^\s/.test(line) && kept.length > 0) kept[kept.length - 1] += ` ${text}`
    else kept.push(text.replace(/\s{2,}/g, ' '))
  }
  const missing = /^Missing (\d+) required args?:$/.exec(kept[0] ?? '')
  if (missing) {
    const [, ...rest] = kept
    const args = rest.filter((l) => !l.startsWith('Note:')).map((l) => {
      const [name, ...description] = l.split(' ')
      return description.length > 0 ? `${name.toUpperCase()} (${description.join(' ')})` : name.toUpperCase()
    })
    const notes = rest.filter((l) => l.startsWith('Note:'))
    return [`missing required argument${args.length === 1 ? '' : 's'} ${args.join(', ')}`, ...notes].join('; ') + '; see --help'
  }
  const folded = kept.join('; ').replace(/^Parsing (--[\w-]+)(; | )/, '$1: ')
  return `${folded}; see --help`
}
