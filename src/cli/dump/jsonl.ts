// jsonl: one object a line, a record or a damaged region, as soon as read.
import {DumpDamage, DumpRecord} from '../../core/dump/walk.js'
import {damageJson, recordJson} from './json-fields.js'
import {DumpRenderer, RenderOptions} from './renderer.js'

export class JsonlRenderer implements DumpRenderer {
  constructor(private readonly o: RenderOptions) {}
  begin(): void {}
  end(): void {}

  record(r: DumpRecord): void {
    this.o.out.write(JSON.stringify(recordJson(r, this.o.encoding, this.o.decode)) + '\n')
  }

  damage(d: DumpDamage): void {
    this.o.out.write(JSON.stringify(damageJson(d)) + '\n')
  }
}
