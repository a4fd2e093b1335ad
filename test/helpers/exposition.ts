// A strict reader of the Prometheus text exposition format, for the metrics tests.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/**
 * A strict reader of the text exposition format (version 0.0.4) as node_exporter
 * parses it: every family has HELP and TYPE before its samples, names and
 * label names are valid, label values are escaped, values are numbers, no
 * family appears twice, the text ends with a newline.
 */
export function parseExposition(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('exposition text must end with a newline')
  const samples: Sample[] = []
  const typed = new Map<string, string>()
  const helped = new Set<string>()
  const closed = new Set<string>()
  let current = ''
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (m) {
      if (m[2] !== current) {
        if (closed.has(m[2])) throw new Error(`family ${m[2]} appears twice`)
        if (current) closed.add(current)
        current = m[2]
      }
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3])) throw new Error(`bad type: ${line}`)
        typed.set(m[2], m[3])
      } else helped.add(m[2])
      continue
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`)
    if (m[1] !== current || !typed.has(m[1]) || !helped.has(m[1])) throw new Error(`sample before its HELP and TYPE: ${line}`)
    const labels: Record<string, string> = {}
    let rest = m[2] ?? ''
    while (rest.length > 0) {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest)
      if (!l) throw new Error(`bad labels: ${m[2]}`)
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      rest = rest.slice(l[0].length)
    }
    const value = Number(m[3])
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`)
    samples.push({name: m[1], labels, value})
  }
  return samples
}

export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}
