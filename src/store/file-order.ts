/**
 * Newest-first order of the stored files, with their names lowercased for the substring filter.
 * Derived from the file documents (like ChunkRefs) and kept beside NeDB, because NeDB's indexes
 * cannot serve this query: a range on its AVL index materialises every document in the range
 * (all of them for the first page, ~300 ms at 100,000 files), and a regex needs a scan plus a sort.
 * Here a page is a binary search plus a walk. Memory: one small entry per file (~100 bytes).
 */
import type { FileDoc } from './catalog-docs.js';
import { invariant } from './errors.js';

interface Entry {
  readonly createdAtMs: number;
  readonly hash: string;
  namesLower: string;
}

export interface FileCursor {
  readonly createdAtMs: number;
  readonly hash: string;
}

/** Newest first; equal times by hash, so the order is total and the same on every node. */
function compare(a: FileCursor, b: FileCursor): number {
  if (a.createdAtMs !== b.createdAtMs) return b.createdAtMs - a.createdAtMs;
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}

/** NUL between names, so a needle (typed, never holding NUL) cannot match across two names. */
const namesKey = (doc: FileDoc) => doc.names.join('\0').toLowerCase();

export class FileOrder {
  private entries: Entry[] = [];

  static fromDocs(docs: Iterable<FileDoc>): FileOrder {
    const order = new FileOrder();
    for (const doc of docs) order.entries.push({ createdAtMs: doc.createdAtMs, hash: doc.hash, namesLower: namesKey(doc) });
    order.entries.sort(compare);
    return order;
  }

  upsert(doc: FileDoc): void {
    const at = this.lowerBound(doc);
    const found = this.entries[at];
    if (found !== undefined && compare(found, doc) === 0) found.namesLower = namesKey(doc);
    else this.entries.splice(at, 0, { createdAtMs: doc.createdAtMs, hash: doc.hash, namesLower: namesKey(doc) });
  }

  remove(doc: FileDoc): void {
    const at = this.lowerBound(doc);
    const found = this.entries[at];
    invariant(found !== undefined && compare(found, doc) === 0, () => `file ${doc.hash} is not in the order index: it drifted from the documents`);
    this.entries.splice(at, 1);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Up to `limit` hashes after `cursor` whose names contain `needle` (lowercase); `more` if others follow. */
  page(cursor: FileCursor | null, limit: number, needle: string): { hashes: string[]; more: boolean } {
    const hashes: string[] = [];
    let i = cursor === null ? 0 : this.upperBound(cursor);
    for (; i < this.entries.length; i++) {
      const entry = this.entries[i] as Entry;
      if (needle !== '' && !entry.namesLower.includes(needle)) continue;
      if (hashes.length === limit) return { hashes, more: true };
      hashes.push(entry.hash);
    }
    return { hashes, more: false };
  }

  /** First position whose entry is not before `key`. */
  private lowerBound(key: FileCursor): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.entries[mid] as Entry, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position whose entry is after `key`. */
  private upperBound(key: FileCursor): number {
    const at = this.lowerBound(key);
    const found = this.entries[at];
    return found !== undefined && compare(found, key) === 0 ? at + 1 : at;
  }
}
