// Started by test/helpers/s3.ts in a child process of its own (the tests spawn
// walctl synchronously, so a server in the test process would never answer):
// s3rver on a free loopback port, plus a front that refuses every write with
// S3's AccessDenied, as a bucket with a read-only policy does. Prints one JSON
// line with both endpoints; exits when its stdin closes.
import * as http from 'node:http'
import S3rver from 's3rver'

const [directory, ...buckets] = process.argv.slice(2)
const server = new S3rver({address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({name}))})
const addr = await server.run()
const upstream = addr.port

const front = http.createServer((req, res) => {
  if (req.method === 'PUT' || req.method === 'POST' || req.method === 'DELETE') {
    req.resume()
    res.writeHead(403, {'content-type': 'application/xml'})
    res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')
    return
  }
  const up = http.request({host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers}, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers)
    r.pipe(res)
  })
  up.on('error', () => res.destroy())
  req.pipe(up)
})
await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve))

process.stdout.write(JSON.stringify({endpoint: `http://127.0.0.1:${upstream}`, readOnlyEndpoint: `http://127.0.0.1:${front.address().port}`}) + '\n')
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
