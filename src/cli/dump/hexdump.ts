// A canonical hexdump (as `hexdump -C`): absolute offset, 16 bytes, ASCII;
// repeated lines squeezed to `*`. Fed in pieces, so a long region streams.

function ascii(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'
}

export function hexLine(address: number, bytes: Uint8Array): string {
  let hex = ''
  let text = ''
  for (let i = 0; i < 16; i++) {
    if (i === 8) hex += ' '
    hex += i < bytes.length ? bytes[i].toString(16).padStart(2, '0') + ' ' : '   '
    if (i < bytes.length) text += ascii(bytes[i])
  }
  return `${address.toString(16).padStart(8, '0')}  ${hex} |${text}|`
}

export class HexDump {
  private readonly line = Buffer.alloc(16)
  private fill = 0
  private address: number
  private prev?: Buffer
  private squeezing = false

  constructor(start: number, private readonly emit: (line: string) => void) {
    this.address = start
  }

  feed(bytes: Uint8Array): void {
    let i = 0
    while (i < bytes.length) {
      const n = Math.min(16 - this.fill, bytes.length - i)
      this.line.set(bytes.subarray(i, i + n), this.fill)
      this.fill += n
      i += n
      if (this.fill === 16) this.flushLine()
    }
  }

  /** Ends the dump; `*` runs end with the address they reach. */
  finish(): void {
    const wasSqueezing = this.squeezing
    if (this.fill > 0) {
      this.squeezing = false
      this.emit(hexLine(this.address, this.line.subarray(0, this.fill)))
      this.address += this.fill
      this.fill = 0
    } else if (wasSqueezing) {
      this.emit(this.address.toString(16).padStart(8, '0'))
    }
  }

  private flushLine(): void {
    if (this.prev && this.prev.equals(this.line)) {
      if (!this.squeezing) this.emit('*')
      this.squeezing = true
    } else {
      this.squeezing = false
      this.emit(hexLine(this.address, this.line))
      this.prev = Buffer.from(this.line)
    }
    this.address += 16
    this.fill = 0
  }
}
