// The archive's figures: shipping a 1 GiB WAL to a file:// target beside a
// plain cp of the same segment files, and the cold start of a file:// archive
// (which must not load the S3 client) beside node -e 0.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {buildBigWal} from './cli.js'
import {Figure, median, MiB, mustSucceed, run, tempDir, walctl} from './lib.js'

const node = process.execPath

export function archiveBench(repeats: number, figures: Figure[]): void {
  const gib = 1024 * MiB
  const free = fs.statfsSync(path.dirname(tempDir('probe')))
  if (free.bavail * free.bsize < 4 * gib) throw new Error('less than 4 GiB free under the temp directory: not building the 1 GiB WAL')
  const dir = tempDir('archive1g')
  // 17 segments of 64 MiB: 16 sealed ones, 1 GiB, are what archive ships.
  buildBigWal(dir, gib + 64 * MiB)
  const sealed = fs.readdirSync(dir).filter((n) => /^wal_\d+\.log$/.test(n)).sort().slice(0, -1).map((n) => path.join(dir, n))
  const walMs: number[] = []
  const cpMs: number[] = []
  for (let i = 0; i < repeats; i++) {
    const cpDest = tempDir('archive-cp')
    cpMs.push(mustSucceed(run('cp', [...sealed, cpDest]), 'cp').ms)
    fs.rmSync(cpDest, {recursive: true, force: true})
    const dest = path.join(tempDir('archive-dest'), 'a')
    walMs.push(mustSucceed(walctl(['archive', dir, '--to', `file://${dest}`, '--quiet']), 'archive 1 GiB').ms)
    fs.rmSync(dest, {recursive: true, force: true})
  }
  const ms = median(walMs)
  const base = median(cpMs)
  figures.push({group: 'archive', name: 'archive 1 GiB (16 x 64 MiB) to file://, GB/s', value: gib / 1e9 / (ms / 1000), unit: 'GB/s', baselineName: 'cp of the same files', baseline: gib / 1e9 / (base / 1000), ratio: base / ms,
    target: '>= 0.8x cp', met: base / ms >= 0.8, extra: {wallMs: ms, cpWallMs: base}})

  // Start-up: a file:// archive with nothing to ship loads no S3 client.
  const small = tempDir('archive-small')
  mustSucceed(walctl(['init', path.join(small, 'wal'), '--segment-size', '4KiB']), 'init')
  const target = `file://${path.join(small, 'arch')}`
  mustSucceed(walctl(['archive', path.join(small, 'wal'), '--to', target, '--quiet']), 'archive warm-up')
  const a: number[] = []
  const n: number[] = []
  for (let i = 0; i < 11; i++) {
    n.push(mustSucceed(run(node, ['-e', '0']), 'node -e 0').ms)
    a.push(mustSucceed(walctl(['archive', path.join(small, 'wal'), '--to', target, '--quiet']), 'archive file://').ms)
  }
  figures.push({group: 'archive', name: 'cold start: archive to file:// (nothing to ship)', value: median(a), unit: 'ms', baselineName: 'node -e 0', baseline: median(n), ratio: median(n) / median(a), extra: {overNodeMs: median(a) - median(n)}})
}
