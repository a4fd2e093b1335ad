// An S3-compatible bucket as an archive target (s3://bucket/prefix). The AWS
// SDK is imported here only, and this module only by commands given an s3://
// target, so no other command pays for loading it. Region, credentials and
// endpoint come from the standard AWS environment variables and shared config
// files (the SDK's own provider chain); --endpoint names an S3-compatible
// service (MinIO, Ceph RGW, R2...), addressed path-style.
import type {S3Client as S3ClientType} from '@aws-sdk/client-s3'
import {ExitCode, WalError} from '../errors.js'
import {Digester} from './digest.js'
import {ArchiveStore, Digests, MANIFEST_NAME, MIN_PART_SIZE, PutOptions, StoredObject} from './store.js'
import {compareNames} from '../format/names.js'
import * as fs from 'node:fs'

type Sdk = typeof import('@aws-sdk/client-s3')

export interface S3Options {
  endpoint?: string
  /** Objects larger than this go up in parts of this size (at least 5 MiB, as S3 requires). */
  partSize: number
  /** Parts in flight at once (memory: this many parts). */
  concurrency: number
}

export class S3Store implements ArchiveStore {
  private constructor(readonly url: string, private readonly sdk: Sdk, private readonly client: S3ClientType, private readonly bucket: string, private readonly prefix: string, private readonly options: S3Options) {}

  static async open(url: string, bucket: string, prefix: string, options: S3Options): Promise<S3Store> {
    // walctl pins an SDK line that supports the Node it runs on; the SDK's notice about future lines is not the operator's to act on.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    const sdk = await import('@aws-sdk/client-s3')
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL
    const client = new sdk.S3Client({
      ...(endpoint ? {endpoint, forcePathStyle: true} : {}),
      // A region is needed to sign requests even where an S3-compatible service ignores it.
      ...(endpoint && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION ? {region: 'us-east-1'} : {}),
      // Many S3-compatible services reject the SDK's newer default trailing checksums; walctl checks by re-reading.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    })
    return new S3Store(url, sdk, client, bucket, prefix.replace(/^\/+|\/+$/g, ''), options)
  }

  private key(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name
  }

  private fail(error: unknown, action: string, name?: string): WalError {
    if (error instanceof WalError) return error
    const e = error as Error & {name?: string; $metadata?: {httpStatusCode?: number}; code?: string}
    const status = e.$metadata?.httpStatusCode
    const what = `${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message}`.replace(/\s+/g, ' ')
    const exit = e.name === 'NoSuchBucket' ? ExitCode.NO_INPUT : /Region is missing|Could not load credentials/i.test(e.message ?? '') ? ExitCode.USAGE : ExitCode.IO
    return new WalError(exit, `cannot ${action}: ${what}`, {file: name === undefined ? this.url : `${this.url}/${name}`})
  }

  async list(): Promise<StoredObject[]> {
    const out: StoredObject[] = []
    let token: string | undefined
    try {
      do {
        const r = await this.client.send(new this.sdk.ListObjectsV2Command({Bucket: this.bucket, Prefix: this.prefix ? `${this.prefix}/` : undefined, ContinuationToken: token}))
        for (const o of r.Contents ?? []) {
          const name = (o.Key ?? '').slice(this.prefix ? this.prefix.length + 1 : 0)
          if (name && !name.includes('/')) out.push({name, size: o.Size ?? 0})
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined
      } while (token)
    } catch (error) {
      throw this.fail(error, 'list the archive')
    }
    return out.sort((a, b) => compareNames(a.name, b.name))
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const r = await this.client.send(new this.sdk.HeadObjectCommand({Bucket: this.bucket, Key: this.key(name)}))
      return r.ContentLength ?? 0
    } catch (error) {
      const e = error as {name?: string; $metadata?: {httpStatusCode?: number}}
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined
      throw this.fail(error, 'look up an archived object', name)
    }
  }

  async put(name: string, fd: number, length: number, options: PutOptions = {}): Promise<Digests> {
    const source = new Digester()
    const part = Math.max(MIN_PART_SIZE, this.options.partSize)
    const readPart = async (pos: number, n: number): Promise<Buffer> => {
      await options.throttle?.(n)
      const buf = Buffer.allocUnsafe(n)
      for (let got = 0; got < n; ) {
        const r = fs.readSync(fd, buf, got, n - got, pos + got)
        if (r === 0) throw new WalError(ExitCode.IO, `the segment ended at ${pos + got} bytes while being archived (expected ${length})`, {file: name})
        got += r
      }
      // Parts are read in order, so the digest follows the file.
      source.update(buf)
      return buf
    }
    const key = this.key(name)
    try {
      if (length <= part) {
        const body = await readPart(0, length)
        await this.client.send(new this.sdk.PutObjectCommand({Bucket: this.bucket, Key: key, Body: body, ContentLength: length}))
        options.onBytes?.(length)
      } else {
        await this.putParts(key, length, part, readPart, options)
      }
    } catch (error) {
      throw this.fail(error, `upload ${name}`, name)
    }
    const want = source.digest()
    const got = new Digester()
    for await (const chunk of this.read(name)) got.update(chunk)
    const stored = got.digest()
    if (stored.sha256 !== want.sha256 || got.bytes !== length) {
      await this.remove(name).catch(() => undefined)
      throw new WalError(ExitCode.IO, `the uploaded ${name} read back differs from the segment (sha256 ${stored.sha256}, ${got.bytes} bytes; expected ${want.sha256}, ${length} bytes)`, {file: `${this.url}/${name}`})
    }
    return want
  }

  private async putParts(key: string, length: number, part: number, readPart: (pos: number, n: number) => Promise<Buffer>, options: PutOptions): Promise<void> {
    const created = await this.client.send(new this.sdk.CreateMultipartUploadCommand({Bucket: this.bucket, Key: key}))
    const uploadId = created.UploadId!
    const parts: Array<{PartNumber: number; ETag: string}> = []
    let sent = 0
    try {
      const inFlight = new Set<Promise<void>>()
      for (let pos = 0, number = 1; pos < length; pos += part, number++) {
        const body = await readPart(pos, Math.min(part, length - pos))
        const p = this.client.send(new this.sdk.UploadPartCommand({Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: body, ContentLength: body.length}))
          .then((r) => {
            parts.push({PartNumber: number, ETag: r.ETag!})
            sent += body.length
            options.onBytes?.(sent)
          })
        const tracked: Promise<void> = p.finally(() => inFlight.delete(tracked))
        inFlight.add(tracked)
        if (inFlight.size >= Math.max(1, this.options.concurrency)) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
      parts.sort((a, b) => a.PartNumber - b.PartNumber)
      await this.client.send(new this.sdk.CompleteMultipartUploadCommand({Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: {Parts: parts}}))
    } catch (error) {
      // Parts stored so far would cost storage for nothing.
      await this.client.send(new this.sdk.AbortMultipartUploadCommand({Bucket: this.bucket, Key: key, UploadId: uploadId})).catch(() => undefined)
      throw error
    }
  }

  async *read(name: string): AsyncIterable<Uint8Array> {
    let body: AsyncIterable<Uint8Array>
    try {
      const r = await this.client.send(new this.sdk.GetObjectCommand({Bucket: this.bucket, Key: this.key(name)}))
      body = r.Body as unknown as AsyncIterable<Uint8Array>
    } catch (error) {
      throw this.fail(error, 'download', name)
    }
    try {
      for await (const chunk of body) yield chunk
    } catch (error) {
      throw this.fail(error, 'download', name)
    }
  }

  async readManifest(): Promise<string | undefined> {
    if ((await this.size(MANIFEST_NAME)) === undefined) return undefined
    const parts: Buffer[] = []
    for await (const c of this.read(MANIFEST_NAME)) parts.push(Buffer.from(c))
    return Buffer.concat(parts).toString('utf8')
  }

  /** One PUT: S3 replaces an object atomically, so a reader sees the old manifest or the new one, whole. */
  async writeManifest(text: string): Promise<void> {
    try {
      const body = Buffer.from(text, 'utf8')
      await this.client.send(new this.sdk.PutObjectCommand({Bucket: this.bucket, Key: this.key(MANIFEST_NAME), Body: body, ContentLength: body.length, ContentType: 'application/json'}))
    } catch (error) {
      throw this.fail(error, 'write the archive manifest', MANIFEST_NAME)
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({Bucket: this.bucket, Key: this.key(name)}))
    } catch (error) {
      throw this.fail(error, 'remove from the archive', name)
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
