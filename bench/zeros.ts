// How fast a new segment's pages can be written: 64 MiB of zeros into a new
// file, WRITE_CHUNK at a time as walctl writes them (init, rotate, the
// pipeline), against the same in 1 MiB writes, as walctl wrote them before.
// Cold: each write starts 3 s after the previous file was removed, long
// enough for a VM with free page reporting to have handed the freed memory
// back to its host; warm: back to back.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {WRITE_CHUNK, writeZeros} from '../src/core/fs/files.js'
import {Figure, median, MiB, now, tempDir} from './lib.js'

const SIZE = 64 * MiB
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function timedFile(dir: string, write: (fd: number) => void): number {
  const file = path.join(dir, 'segment')
  const fd = fs.openSync(file, 'w+', 0o600)
  const t0 = now()
  write(fd)
  const ms = now() - t0
  fs.closeSync(fd)
  fs.rmSync(file)
  return ms
}

export async function zerosBench(repeats: number, figures: Figure[]): Promise<void> {
  const dir = tempDir('zeros')
  const big = Buffer.alloc(MiB)
  const ours = (fd: number): void => writeZeros(fd, 0, SIZE)
  const megabytes = (fd: number): void => {
    for (let pos = 0; pos < SIZE; pos += MiB) fs.writeSync(fd, big, 0, MiB, pos)
  }
  for (const [label, pause] of [['cold (3 s after a free)', 3000], ['warm (back to back)', 0]] as const) {
    const subject: number[] = []
    const baseline: number[] = []
    for (let i = 0; i < repeats; i++) {
      // Alternating which goes first, so that neither always meets the memory the other just freed.
      for (const first of i % 2 === 0 ? [true, false] : [false, true]) {
        await sleep(pause)
        if (first) subject.push(timedFile(dir, ours))
        else baseline.push(timedFile(dir, megabytes))
      }
    }
    const s = median(subject)
    const b = median(baseline)
    figures.push({group: 'new pages', name: `64 MiB of zeros into a new file in ${WRITE_CHUNK / 1024} KiB writes, ${label}, ms`, value: s, unit: 'ms', baselineName: 'the same in 1 MiB writes', baseline: b, ratio: b / s,
      extra: {runs: subject.map((x) => x.toFixed(0)).join(' '), baselineRuns: baseline.map((x) => x.toFixed(0)).join(' ')}})
  }
}
