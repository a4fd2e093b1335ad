// mmap-io is CommonJS whose typings declare a default export; at run time the
// module object itself is the API. Resolve it once here.
import mmapModule from 'mmap-io'

type MmapIo = typeof mmapModule.default
const loaded = mmapModule as unknown as MmapIo & {default?: MmapIo}

export const mmap: MmapIo = loaded.default ?? loaded
