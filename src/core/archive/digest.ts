// SHA-256 and CRC-32 together over a stream of chunks: what the manifest
// records for each object and what a re-read is compared with.
import {createHash, Hash} from 'node:crypto'
import {crc32} from 'node:zlib'
import {Digests} from './store.js'

export class Digester {
  private readonly hash: Hash = createHash('sha256')
  private crc = 0
  bytes = 0

  update(chunk: Uint8Array): void {
    this.hash.update(chunk)
    this.crc = crc32(chunk, this.crc)
    this.bytes += chunk.length
  }

  digest(): Digests {
    return {sha256: this.hash.digest('hex'), crc32: (this.crc >>> 0).toString(16).padStart(8, '0')}
  }
}

/** Digests of everything an async iterable yields. */
export async function digestOf(chunks: AsyncIterable<Uint8Array>): Promise<Digests & {bytes: number}> {
  const d = new Digester()
  for await (const c of chunks) d.update(c)
  return {...d.digest(), bytes: d.bytes}
}
