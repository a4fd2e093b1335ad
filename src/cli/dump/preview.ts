// A payload as one line a person can read: text when it is printable UTF-8,
// hex otherwise, cut to a width.
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

/** `"text"` or `hex 0a1b…`, at most `width` characters. */
export function previewPayload(data: Uint8Array, width: number): string {
  const text = printableText(data)
  if (text !== undefined) return cut(JSON.stringify(text), width)
  if (data.length * 2 <= width) return Buffer.from(data).toString('hex')
  const room = Math.max(0, Math.floor((width - 1) / 2))
  return Buffer.from(data.subarray(0, room)).toString('hex') + '…'
}
