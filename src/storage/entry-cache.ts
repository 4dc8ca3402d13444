import { entrySize, type Entry } from '../raft/index.js';

/**
 * The most recently written or read entries, bounded in bytes (entries carry 255 KiB file chunks,
 * so a count bound would mean nothing). First in, first out: readers of a Raft log mostly want
 * what was just written (followers a little behind), and FIFO eviction is O(1), where evicting
 * from the front of a Map one key at a time walks ever more deleted slots.
 */
export class EntryCache {
  private readonly entries = new Map<number, Entry>();
  /**
   * Insertion order; may hold entries already deleted or replaced (skipped when evicting). Slots
   * before orderHead are cleared as they are passed: they would otherwise pin evicted payloads.
   */
  private order: (Entry | undefined)[] = [];
  private orderHead = 0;
  private bytes = 0;

  constructor(private readonly bytesMax: number) {}

  get(index: number, term: number): Entry | undefined {
    const e = this.entries.get(index);
    // A term mismatch means the slot was overwritten by a conflicting append we missed: never serve it.
    return e !== undefined && e.term === term ? e : undefined;
  }

  put(e: Entry): void {
    const size = entrySize(e);
    if (size > this.bytesMax) return;
    this.delete(e.index);
    this.entries.set(e.index, e);
    this.order.push(e);
    this.bytes += size;
    while (this.bytes > this.bytesMax) this.evictOldest();
    // Deletions leave dead references in `order`; keep them from holding payloads indefinitely.
    if (this.order.length - this.orderHead > 2 * this.entries.size + 1024) this.compactOrder();
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
    this.order = [];
    this.orderHead = 0;
    this.bytes = 0;
  }

  byteSize(): number {
    return this.bytes;
  }

  private evictOldest(): void {
    const e = this.order[this.orderHead];
    this.order[this.orderHead++] = undefined;
    if (e !== undefined && this.entries.get(e.index) === e) this.delete(e.index);
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) this.compactOrder();
  }

  /** Keeps only live entries in `order`, oldest first. */
  private compactOrder(): void {
    this.order = this.order.slice(this.orderHead).filter((e) => e !== undefined && this.entries.get(e.index) === e);
    this.orderHead = 0;
  }

  private delete(index: number): void {
    const e = this.entries.get(index);
    if (e === undefined) return;
    this.entries.delete(index);
    this.bytes -= entrySize(e);
  }
}
