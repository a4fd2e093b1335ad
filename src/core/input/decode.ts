// Hex and base64 input lines decoded in one linear pass over their bytes, with
// no regular expression: a line of any length costs time linear in it and a
// fixed stack, and the first bad character is named with its column.

/** Why a line does not decode; the caller adds where. */
export class DecodeError extends Error {}

const HEX = new Int8Array(256).fill(-1)
const BASE64 = new Int8Array(256).fill(-1)
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i
for (let i = 0; i < 6; i++) {
  HEX[0x61 + i] = 10 + i
  HEX[0x41 + i] = 10 + i
}
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
for (let i = 0; i < 64; i++) BASE64[BASE64_ALPHABET.charCodeAt(i)] = i
const EQUALS = 0x3d

/** Space, tab, CR, vertical tab and form feed: what may surround an encoded record on its line. */
function isBlank(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)
}

/** `[start, end)` without the blanks at either end. */
export function trimBlanks(buf: Buffer, start: number, end: number): [number, number] {
  while (start < end && isBlank(buf[start])) start++
  while (end > start && isBlank(buf[end - 1])) end--
  return [start, end]
}

function describe(byte: number): string {
  return byte > 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`
}

/** Decodes `buf[start, end)`; `lineStart` is where the line began, for columns (1-based). */
export function decodeHex(buf: Buffer, start: number, end: number, lineStart: number): Buffer {
  for (let i = start; i < end; i++) {
    if (HEX[buf[i]] < 0) throw new DecodeError(`not hex: ${describe(buf[i])} at column ${i - lineStart + 1}`)
  }
  const digits = end - start
  if (digits % 2 !== 0) throw new DecodeError(`not hex: odd number of digits (${digits})`)
  const out = Buffer.allocUnsafe(digits / 2)
  for (let i = 0, j = start; i < out.length; i++, j += 2) out[i] = (HEX[buf[j]] << 4) | HEX[buf[j + 1]]
  return out
}

/** Decodes standard base64 with padding in `buf[start, end)`. */
export function decodeBase64(buf: Buffer, start: number, end: number, lineStart: number): Buffer {
  const length = end - start
  // Padding: at most two '=', only at the very end.
  let data = end
  while (data > start && end - data < 2 && buf[data - 1] === EQUALS) data--
  for (let i = start; i < data; i++) {
    if (BASE64[buf[i]] >= 0) continue
    const where = `at column ${i - lineStart + 1}`
    throw new DecodeError(buf[i] === EQUALS ? `not base64: '=' before the end of the line ${where}` : `not base64: ${describe(buf[i])} ${where}`)
  }
  if (length % 4 !== 0) throw new DecodeError(`not base64: ${length} characters, not a multiple of 4 (standard base64 with padding expected)`)
  return Buffer.from(buf.toString('latin1', start, end), 'base64')
}
