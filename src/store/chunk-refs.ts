/**
 * Reference counts of chunks, derived from the file manifests and kept in memory only.
 *
 * Why not stored in the catalog: a stored counter is incremented by applies, and an increment
 * is not idempotent (re-applying an entry after a crash mid-apply would count twice), nor can a
 * load verify it. Counts derived from the manifests cannot drift from them: they are rebuilt on
 * every load (one pass over the manifests) and kept current by the catalog as documents change.
 */
import { HASH_HEX_LENGTH } from './hash.js';
import type { FileDoc } from './catalog-docs.js';
import { invariant } from './errors.js';

export class ChunkRefs {
  private readonly counts = new Map<string, number>();

  static fromDocs(files: Iterable<FileDoc>): ChunkRefs {
    const refs = new ChunkRefs();
    for (const doc of files) refs.addFile(doc.chunkHashes);
    return refs;
  }

  /** `chunkHashes` is a file document's concatenated chunk list; a chunk used twice counts twice. */
  addFile(chunkHashes: string): void {
    for (let i = 0; i < chunkHashes.length; i += HASH_HEX_LENGTH) {
      const hash = chunkHashes.slice(i, i + HASH_HEX_LENGTH);
      this.counts.set(hash, (this.counts.get(hash) ?? 0) + 1);
    }
  }

  removeFile(chunkHashes: string): void {
    for (let i = 0; i < chunkHashes.length; i += HASH_HEX_LENGTH) {
      const hash = chunkHashes.slice(i, i + HASH_HEX_LENGTH);
      const count = this.counts.get(hash) ?? 0;
      invariant(count > 0, () => `chunk ${hash} is released by a file but has no references: counts drifted from the manifests`);
      if (count === 1) this.counts.delete(hash);
      else this.counts.set(hash, count - 1);
    }
  }

  count(hash: string): number {
    return this.counts.get(hash) ?? 0;
  }

  isReferenced(hash: string): boolean {
    return this.counts.has(hash);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Every referenced chunk hash, sorted (snapshots list them in this order). */
  sorted(): string[] {
    return [...this.counts.keys()].sort();
  }
}
