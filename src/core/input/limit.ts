// The largest record a WAL takes, and the one way every input source says it
// was exceeded: a record is refused as soon as it is known to be too large,
// so what is read of it stays bounded by the limit.
import {maxPayloadSize} from '../format/format.js'

export interface RecordLimit {
  /** Largest payload, in bytes. */
  max: number
  /** The segment size it comes from, named in messages. */
  segmentSize: number
}

export function recordLimit(segmentSize: number): RecordLimit {
  return {max: maxPayloadSize(segmentSize), segmentSize}
}

function canHold(limit: RecordLimit): string {
  return `a segment of ${limit.segmentSize} bytes can hold (at most ${limit.max})`
}

/** A record whose whole length is known. */
export function tooLargeReason(limit: RecordLimit, length: number): string {
  return `record of ${length} bytes is larger than ${canHold(limit)}`
}

/** A record abandoned part way: `read` bytes (or characters of an encoding) were read, and no more. */
export function stoppedReason(limit: RecordLimit, read: number, unit = 'bytes'): string {
  return `record is larger than ${canHold(limit)}: stopped reading after ${read} ${unit}`
}
