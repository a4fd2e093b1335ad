// The byte patterns that made resync quadratic (each candidate offset cost a
// CRC of the length it claimed), each filling a segment's body after its
// header; the tests and the bench use them alike.

export const ADVERSARIAL: Record<string, (body: Buffer) => void> = {
  'repeated 00 00 08 00': (b) => {
    for (let i = 0; i + 4 <= b.length; i += 4) b.writeUInt32BE(0x0000_0800, i)
  },
  'repeated 00 00 20 00': (b) => {
    for (let i = 0; i + 4 <= b.length; i += 4) b.writeUInt32BE(0x0000_2000, i)
  },
  'repeated 0x03': (b) => void b.fill(3),
  'lengths that end just past the capacity': (b) => {
    for (let i = 0; i + 8 <= b.length; i += 8) b.writeUInt32LE(b.length - i - 7, i)
  },
  'valid-looking headers with wrong CRCs': (b) => {
    for (let i = 0; i + 24 <= b.length; i += 24) {
      b.writeUInt32LE(16, i)
      b.writeUInt32LE(0xdead_beef, i + 4)
      b.fill(0x41, i + 8, i + 24)
    }
  },
  'a chain of plausible lengths': (b) => {
    for (let i = 0; i + 8 <= b.length;) {
      const length = 1 + (i % 61)
      if (i + 8 + length > b.length) break
      b.writeUInt32LE(length, i)
      b.writeUInt32LE(0x1234_5678, i + 4)
      b.fill(0x07, i + 8, i + 8 + length)
      i += 8 + length
    }
  },
}
