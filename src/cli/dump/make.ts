// The renderer for a --format.
import {HexRenderer} from './hex.js'
import {JsonRenderer} from './json.js'
import {JsonlRenderer} from './jsonl.js'
import {RawRenderer} from './raw.js'
import {DumpFormat, DumpRenderer, RenderOptions} from './renderer.js'
import {TableRenderer} from './table.js'

export function makeRenderer(format: DumpFormat, o: RenderOptions): DumpRenderer {
  switch (format) {
    case 'table':
      return new TableRenderer(o)
    case 'json':
      return new JsonRenderer(o)
    case 'hex':
      return new HexRenderer(o)
    case 'raw':
      return new RawRenderer(o)
    default:
      return new JsonlRenderer(o)
  }
}
