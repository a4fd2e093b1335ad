// A payload as one line a person can read: text when it is printable UTF-8,
// hex otherwise (or the --encoding asked for), named, cut to a width.
import {encodeData} from './json-fields.js'
import {DataEncoding} from './renderer.js'

const utf8 = new TextDecoder('utf-8', {fatal: true})

export function printableText(data: Uint8Array): string | undefined {
  let text: string
  try {
    text = utf8.decode(data)
  } catch {
    return undefined
  }
  // Control characters other than tab make it binary for this purpose.
  return /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/u.test(text) ? undefined : text
}

export function cut(text: string, width: number): string {
  if (width <= 0) return ''
  const chars = [...text]
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…'
}

/**
 * `"text"`, `hex:0a1b…` or `base64:…`, at most `width` characters. Text is
 * JSON-quoted, so no byte is shown as another; a payload that is not UTF-8
 * is never shown as text, whatever `encoding` asks.
 */
export function previewPayload(data: Uint8Array, width: number, encoding?: DataEncoding): string {
  if (encoding === undefined || encoding === 'utf8') {
    const text = encoding === undefined ? printableText(data) : encodeData(data, 'utf8')
    if (typeof text === 'string') return cut(JSON.stringify(text), width)
    if (text?.encoding === 'utf8') return cut(JSON.stringify(text.data), width)
  }
  // Hex takes 2 characters a byte, base64 4 for 3: encode no more than fits.
  const name = encoding === 'base64' ? 'base64' : 'hex'
  const room = name === 'hex' ? Math.ceil(width / 2) : Math.ceil((width * 3) / 4) + 3
  const body = `${name}:${encodeData(data.subarray(0, Math.min(data.length, room)), name).data}`
  if (data.length <= room) return cut(body, width)
  const chars = [...body]
  return chars.length < width ? `${body}…` : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`
}
