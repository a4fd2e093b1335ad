// What an archive target must do, whatever it is: a directory (file://) or an
// S3-compatible bucket (s3://). Objects are whole segment files, written so
// that a name is either absent or holds the complete, verified bytes.

/** A stored object's name (a segment file name or the manifest's) and size. */
export interface StoredObject {
  name: string
  size: number
}

export interface PutOptions {
  /** Called with the bytes sent so far. */
  onBytes?: (n: number) => void
  /** Waits as long as the bandwidth limit asks before `n` more bytes go. */
  throttle?: (n: number) => Promise<void>
}

export interface ArchiveStore {
  /** `file:///srv/wal-archive` or `s3://bucket/prefix`, for messages. */
  readonly url: string
  /** Every object under the target (the manifest included). */
  list(): Promise<StoredObject[]>
  /** Size of one object, undefined when absent. */
  size(name: string): Promise<number | undefined>
  /**
   * Stores `length` bytes of the open file `fd` from offset 0 under `name`,
   * hashing them as they are read, then reads the stored object back and
   * compares (an object that does not match is removed and the put fails).
   * Returns the checksums of the bytes stored.
   */
  put(name: string, fd: number, length: number, options?: PutOptions): Promise<Digests>
  /** Streams an object's bytes in order. */
  read(name: string): AsyncIterable<Uint8Array>
  /** The manifest's text, undefined when the target has none yet. */
  readManifest(): Promise<string | undefined>
  /** Replaces the manifest atomically: a reader sees the old one or the new one, whole. */
  writeManifest(text: string): Promise<void>
  remove(name: string): Promise<void>
  close(): Promise<void>
}

export interface Digests {
  sha256: string
  /** CRC-32/IEEE, 8 hex digits. */
  crc32: string
}

export const MANIFEST_NAME = 'manifest.json'

/** S3 takes multipart parts of at least 5 MiB (all but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024
