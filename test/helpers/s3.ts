// A real S3-compatible HTTP server on 127.0.0.1 for the archive tests (s3rver:
// the S3 REST API over a directory), in a child process, and the environment a
// walctl child needs to reach it through the standard AWS variables.
import {spawn} from 'node:child_process'
import * as path from 'node:path'
import {createInterface} from 'node:readline'
import {ROOT} from './cli.js'
import {tempDir} from './fixtures.js'

export interface S3Server {
  endpoint: string
  /** A front of the same server that refuses every write (AccessDenied). */
  readOnlyEndpoint: string
  env: NodeJS.ProcessEnv
  close(): Promise<void>
}

export async function startS3(buckets: string[]): Promise<S3Server> {
  const child = spawn(process.execPath, [path.join(ROOT, 'test', 'helpers', 's3-server.mjs'), tempDir('walctl-s3-'), ...buckets], {cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit']})
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({input: child.stdout!})
    rl.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the S3 server exited (${code}) before it listened`)))
  })
  const {endpoint, readOnlyEndpoint} = JSON.parse(line) as {endpoint: string; readOnlyEndpoint: string}
  return {
    endpoint,
    readOnlyEndpoint,
    // s3rver's built-in account; a region because S3 requests are signed with one; no shared files of the host's.
    env: {AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent'},
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.stdin!.end()
      setTimeout(() => child.kill('SIGKILL'), 2000).unref()
    }),
  }
}
