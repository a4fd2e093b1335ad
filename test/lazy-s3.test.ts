// The AWS SDK is loaded only by commands given an s3:// target: start-up of
// every other command does not pay for it. Traced through the ESM loader in
// real processes; the s3:// run is the control that shows the trace sees it.
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import {BIN, ROOT} from './helpers/cli.js'
import {copyFixture, tempDir} from './helpers/fixtures.js'

function loaded(args: string[]): {code: number | null; urls: string[]} {
  const trace = path.join(tempDir(), 'imports.txt')
  fs.writeFileSync(trace, '')
  const r = spawnSync(process.execPath, ['--import', path.join(ROOT, 'test', 'helpers', 'trace-imports.mjs'), BIN, ...args], {
    env: {...process.env, WALCTL_TRACE_IMPORTS: trace, NO_COLOR: '1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true'},
    timeout: 60_000,
  })
  return {code: r.status, urls: fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean)}
}

const aws = (urls: string[]): string[] => urls.filter((u) => u.includes('@aws-sdk') || u.includes('@smithy'))

test('verify, dump, append and a file:// archive load no AWS SDK; an s3:// target does', (t) => {
  const root = copyFixture('small')
  const wal = path.join(root, 'wal')
  for (const args of [['verify', wal], ['dump', wal, '--limit', '1'], ['append', wal, 'x'], ['archive', wal, '--to', `file://${path.join(tempDir(), 'a')}`]]) {
    const r = loaded(args)
    t.is(r.code, 0, args.join(' '))
    t.true(r.urls.length > 0, 'the trace sees the imports')
    t.deepEqual(aws(r.urls), [], `${args[0]} loads no AWS SDK module`)
  }
  // Nothing listens on this port: the command fails, but only after loading the SDK.
  const s3 = loaded(['archive', wal, '--to', 's3://bucket/prefix', '--endpoint', 'http://127.0.0.1:9'])
  t.is(s3.code, 74)
  t.true(aws(s3.urls).length > 0, 'an s3:// target loads the SDK')
})
