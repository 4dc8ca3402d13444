import { entrySize, type Entry } from '../raft/index.js';

/**
 * Recently written or read entries, bounded in bytes (entries carry 255 KiB file chunks, so a
 * count bound would mean nothing). Least recently used goes first: a Map iterates in insertion
 * order, and a hit is re-inserted at the end.
 */
export class EntryCache {
  private readonly entries = new Map<number, Entry>();
  private bytes = 0;

  constructor(private readonly bytesMax: number) {}

  get(index: number, term: number): Entry | undefined {
    const e = this.entries.get(index);
    // A term mismatch means the slot was overwritten by a conflicting append we missed: never serve it.
    if (e === undefined || e.term !== term) return undefined;
    this.entries.delete(index);
    this.entries.set(index, e);
    return e;
  }

  put(e: Entry): void {
    const size = entrySize(e);
    if (size > this.bytesMax) return;
    this.delete(e.index);
    this.entries.set(e.index, e);
    this.bytes += size;
    for (const [index] of this.entries) {
      if (this.bytes <= this.bytesMax) break;
      this.delete(index);
    }
  }

  /** Forgets entries at or after `index` (a conflicting suffix was replaced). */
  deleteFrom(index: number): void {
    for (const i of [...this.entries.keys()]) if (i >= index) this.delete(i);
  }

  /** Forgets entries at or before `index` (compacted). */
  deleteThrough(index: number): void {
    for (const i of [...this.entries.keys()]) if (i <= index) this.delete(i);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  byteSize(): number {
    return this.bytes;
  }

  private delete(index: number): void {
    const e = this.entries.get(index);
    if (e === undefined) return;
    this.entries.delete(index);
    this.bytes -= entrySize(e);
  }
}
