// The claims a parallel verify shares its segments out by: each segment goes
// to exactly one thread, whatever order the threads ask in, and a segment
// that was not listed goes to none.
import test from 'ava'
import {SegmentClaims} from '../src/core/read/segment-claims.js'

test('every listed segment is claimed once, by the first thread to ask; views of the same memory agree', (t) => {
  const claims = new SegmentClaims([1, 2, 3, 5, 8])
  // A second view of the shared memory, as a worker builds it.
  const other = new SegmentClaims(claims.ids, claims.buffer)
  const a = claims.filterFor(1)
  const b = other.filterFor(2)
  t.true(a.has(1))
  t.false(b.has(1))
  t.true(b.has(2))
  t.true(b.has(3))
  t.false(a.has(2))
  t.false(a.has(3))
  t.true(a.has(5))
  t.false(b.has(5))
  t.false(a.has(4), 'not listed: nobody scans it')
  t.false(b.has(4))
  t.true(b.has(8))
  t.false(a.has(8), 'asked again, still taken')
  t.true(claims.took(1))
  t.true(claims.took(2))
  t.false(claims.took(3))
})

test('a thread that asks before the others have started takes everything, and they take nothing', (t) => {
  const claims = new SegmentClaims([4, 5, 6])
  const first = claims.filterFor(1)
  t.deepEqual([4, 5, 6].map((id) => first.has(id)), [true, true, true])
  const late = claims.filterFor(2)
  t.deepEqual([4, 5, 6].map((id) => late.has(id)), [false, false, false])
  t.false(claims.took(2))
})
