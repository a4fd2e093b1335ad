// raw: the payload bytes of the selected records, back to back, for piping;
// with --damaged-only, or an --offset inside a damaged region, that region's bytes.
import {DumpDamage, DumpRecord} from '../../core/dump/walk.js'
import {DumpRenderer, RenderOptions} from './renderer.js'

const PIECE = 64 * 1024

export class RawRenderer implements DumpRenderer {
  constructor(private readonly o: RenderOptions) {}
  begin(): void {}
  end(): void {}

  record(r: DumpRecord): void {
    this.o.out.bytes(r.data)
  }

  damage(d: DumpDamage): void {
    if (!this.o.rawDamage || d.segment === null || d.offset === null || d.end === null) return
    for (let at = d.offset; at < d.end; ) {
      const {bytes} = this.o.bytes.read(d.file, at, Math.min(d.end, at + PIECE), PIECE)
      if (bytes.length === 0) break
      this.o.out.bytes(bytes)
      at += bytes.length
    }
  }
}
