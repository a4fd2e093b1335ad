// gc --archived: how many of the WAL's oldest segments an archive holds with
// the same bytes (name, size and SHA-256 as the manifest lists them), as
// pg_archivecleanup trusts only what archive status confirms. A segment not
// archived, or archived with other bytes, stops the count: gc never removes
// it or anything after it.
import {hashFile} from '../fs/files.js'
import {SegmentFile} from '../read/directory.js'
import {loadManifest} from './archive.js'
import {ArchiveStore} from './store.js'

export async function archivedPrefix(segments: readonly SegmentFile[], store: ArchiveStore): Promise<{count: number; stoppedAt?: string}> {
  const manifest = await loadManifest(store)
  const byName = new Map((manifest?.segments ?? []).map((s) => [s.name, s]))
  let count = 0
  for (const s of segments) {
    const listed = byName.get(s.name)
    if (!listed) return {count, stoppedAt: `${s.name} is not in the archive ${store.url}`}
    if (listed.size !== s.size || hashFile(s.path).sha256 !== listed.sha256) return {count, stoppedAt: `${s.name} differs from its archived copy in ${store.url}`}
    count++
  }
  return {count}
}
