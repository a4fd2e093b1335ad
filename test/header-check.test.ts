// One owner for what a header problem costs: the scanner, the writer's open,
// recover's planner and dump --follow all ask header-check.ts.
import test from 'ava'
import {encodeHeader, FIRST_RECORD_OFFSET} from '../src/core/format/format.js'
import {checkHeader, headerProblemMessage, headerProblemSeverity, HeaderProblemKind, isFatalHeaderProblem} from '../src/core/format/header-check.js'

const KINDS: HeaderProblemKind[] = ['short-file', 'bad-magic', 'bad-version', 'bad-header-size', 'bad-data-offset', 'reserved-not-zero', 'size-mismatch', 'future-timestamp', 'clock-skew', 'created-after-modified']

test('fatal kinds cost the segment, a clock skew nothing, the rest a repair', (t) => {
  t.deepEqual(KINDS.filter((k) => isFatalHeaderProblem(k)), ['short-file', 'bad-magic', 'bad-version', 'bad-header-size', 'bad-data-offset', 'reserved-not-zero'])
  for (const k of KINDS) t.is(headerProblemSeverity(k), isFatalHeaderProblem(k) ? 'damaged' : k === 'clock-skew' ? 'warning' : 'repairable', k)
})

test('a size mismatch is repairable when shorter or longer by zeros, damaged when longer with data', (t) => {
  t.is(headerProblemSeverity('size-mismatch', {fileSize: 100, segmentSize: 512, excessIsZero: false}), 'repairable')
  t.is(headerProblemSeverity('size-mismatch', {fileSize: 1024, segmentSize: 512, excessIsZero: true}), 'repairable')
  t.is(headerProblemSeverity('size-mismatch', {fileSize: 1024, segmentSize: 512, excessIsZero: false}), 'damaged')
})

test('a file with the wrong magic is one problem, "not a WAL segment", whatever its other fields say', (t) => {
  const text = Buffer.from('# walctl\n'.repeat(20))
  const {problems} = checkHeader(text, text.length, {segmentSize: 4096, nowUs: 1n})
  t.is(problems.length, 1)
  t.is(problems[0].kind, 'bad-magic')
  t.regex(headerProblemMessage(problems[0]), /^not a WAL segment: magic is "# wa", expected "WLOG"$/)
  // A real header keeps reporting each field.
  const head = encodeHeader(10n, 5n)
  head.writeUInt32LE(7, 4)
  t.deepEqual(checkHeader(head, FIRST_RECORD_OFFSET).problems.map((p) => p.kind), ['bad-version', 'created-after-modified'])
})
