// Reads the type notation of docs/JSON.md and checks real JSON against it, so
// that the document cannot drift from what the commands print.
//
// Notation (TypeScript-like): `type Name = T` definitions inside ```ts blocks;
// T is string, integer, number, boolean, null, unknown, a 'literal', a Name,
// {field: T, optional?: T} (exact: no other keys allowed), T[], or T | T.
// `//` comments run to the end of the line; newlines separate fields.

export type Shape =
  | {kind: 'prim'; name: 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'unknown'}
  | {kind: 'literal'; value: string}
  | {kind: 'ref'; name: string}
  | {kind: 'object'; fields: Map<string, {shape: Shape; optional: boolean}>}
  | {kind: 'array'; item: Shape}
  | {kind: 'union'; options: Shape[]}

const PRIMS = new Set(['string', 'integer', 'number', 'boolean', 'null', 'unknown'])

function tokenize(text: string): string[] {
  const tokens: string[] = []
  const re = /\s+|\/\/[^\n]*|'[^']*'|[A-Za-z_][A-Za-z0-9_]*|\[\]|[{}:?|,;=]/y
  let at = 0
  while (at < text.length) {
    re.lastIndex = at
    const m = re.exec(text)
    if (!m) throw new Error(`JSON.md type notation: unexpected ${JSON.stringify(text.slice(at, at + 20))}`)
    at = re.lastIndex
    const t = m[0]
    if (/^\s/.test(t)) {
      if (t.includes('\n')) tokens.push('\n')
    } else if (!t.startsWith('//')) tokens.push(t)
  }
  return tokens
}

/** Every `type Name = ...` in the ```ts blocks of a Markdown document. */
export function parseTypes(markdown: string): Map<string, Shape> {
  const types = new Map<string, Shape>()
  for (const block of markdown.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const tokens = tokenize(block[1])
    let i = 0
    const peek = (): string | undefined => tokens[i]
    const skipNewlines = (): void => {
      while (peek() === '\n' || peek() === ';') i++
    }
    const expect = (t: string): void => {
      if (tokens[i] !== t) throw new Error(`JSON.md type notation: expected '${t}', found '${tokens[i]}' (token ${i})`)
      i++
    }
    const primary = (): Shape => {
      skipNewlines()
      const t = tokens[i++]
      let shape: Shape
      if (t === '{') {
        const fields = new Map<string, {shape: Shape; optional: boolean}>()
        for (;;) {
          while (peek() === '\n' || peek() === ',') i++
          if (peek() === '}') break
          const name = tokens[i++]
          const optional = peek() === '?'
          if (optional) i++
          expect(':')
          fields.set(name, {shape: union(), optional})
        }
        expect('}')
        shape = {kind: 'object', fields}
      } else if (t.startsWith("'")) shape = {kind: 'literal', value: t.slice(1, -1)}
      else if (PRIMS.has(t)) shape = {kind: 'prim', name: t as 'string'}
      else if (/^[A-Z]/.test(t)) shape = {kind: 'ref', name: t}
      else throw new Error(`JSON.md type notation: unexpected '${t}'`)
      while (peek() === '[]') {
        i++
        shape = {kind: 'array', item: shape}
      }
      return shape
    }
    const union = (): Shape => {
      skipNewlines()
      if (peek() === '|') i++
      const options = [primary()]
      // A union may continue on the next line when that line starts with '|'.
      for (;;) {
        let j = i
        while (tokens[j] === '\n') j++
        if (tokens[j] !== '|') break
        i = j + 1
        options.push(primary())
      }
      return options.length === 1 ? options[0] : {kind: 'union', options}
    }
    for (;;) {
      skipNewlines()
      if (i >= tokens.length) break
      expect('type')
      const name = tokens[i++]
      expect('=')
      if (types.has(name)) throw new Error(`JSON.md defines ${name} twice`)
      types.set(name, union())
    }
  }
  return types
}

/** Every way `value` departs from `shape`: an empty list when it conforms. */
export function checkShape(value: unknown, shape: Shape, types: Map<string, Shape>, at = '$'): string[] {
  switch (shape.kind) {
    case 'prim':
      switch (shape.name) {
        case 'unknown':
          return []
        case 'null':
          return value === null ? [] : [`${at}: expected null, got ${JSON.stringify(value)}`]
        case 'integer':
          return Number.isInteger(value) ? [] : [`${at}: expected an integer, got ${JSON.stringify(value)}`]
        default:
          return typeof value === shape.name ? [] : [`${at}: expected ${shape.name}, got ${JSON.stringify(value)}`]
      }
    case 'literal':
      return value === shape.value ? [] : [`${at}: expected '${shape.value}', got ${JSON.stringify(value)}`]
    case 'ref': {
      const target = types.get(shape.name)
      if (!target) return [`${at}: JSON.md uses ${shape.name} but does not define it`]
      return checkShape(value, target, types, at)
    }
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected an array, got ${JSON.stringify(value)}`]
      return value.flatMap((v, k) => checkShape(v, shape.item, types, `${at}[${k}]`))
    case 'union': {
      const attempts = shape.options.map((o) => checkShape(value, o, types, at))
      if (attempts.some((a) => a.length === 0)) return []
      return [`${at}: matches none of the alternatives: ${attempts.map((a) => a[0]).join(' / ')}`]
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected an object, got ${JSON.stringify(value)}`]
      const errors: string[] = []
      const record = value as Record<string, unknown>
      for (const key of Object.keys(record)) if (!shape.fields.has(key)) errors.push(`${at}.${key}: not in JSON.md`)
      for (const [key, field] of shape.fields) {
        if (!(key in record)) {
          if (!field.optional) errors.push(`${at}.${key}: missing`)
          continue
        }
        errors.push(...checkShape(record[key], field.shape, types, `${at}.${key}`))
      }
      return errors
    }
  }
}
