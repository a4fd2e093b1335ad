import {crc32 as zlibCrc32} from 'node:zlib'

/** CRC-32/IEEE over `data[start, end)`, natively through zlib. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  return zlibCrc32(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0
}

export function crcHex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0')
}
