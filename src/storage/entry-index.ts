import { invariant, type Entry } from '../raft/index.js';
import type { EntryPlacement } from './wal/records.js';

/** Where one entry lives on disk, and what the index knows of it without reading it. */
export interface EntryLocation {
  readonly index: number;
  readonly term: number;
  readonly kind: Entry['kind'];
  readonly segmentSeq: number;
  readonly offset: number;
  readonly length: number;
  readonly crc: number;
}

const INITIAL_CAPACITY = 1024;

/**
 * index -> (term, segment, offset, length, crc) for every entry in the log, in columns of typed
 * arrays: ~33 bytes an entry and no object per entry, so a log of millions of entries between
 * snapshots costs tens of MB, not hundreds. Entries are pushed at the end, truncated at the end
 * (conflicts) and dropped at the front (compaction).
 */
export class EntryIndex {
  /** Log index of the entry in slot `head`. */
  private firstIndex = 1;
  private head = 0;
  private count = 0;
  private terms = new Float64Array(INITIAL_CAPACITY);
  private offsets = new Float64Array(INITIAL_CAPACITY);
  private segments = new Uint32Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  private crcs = new Uint32Array(INITIAL_CAPACITY);
  private kinds = new Uint8Array(INITIAL_CAPACITY);

  /** Empties the index; the next entry pushed must be `afterIndex + 1`. */
  reset(afterIndex: number): void {
    this.firstIndex = afterIndex + 1;
    this.head = 0;
    this.count = 0;
  }

  /** The last index held, or firstIndex - 1 when empty. */
  lastIndex(): number {
    return this.firstIndex + this.count - 1;
  }

  size(): number {
    return this.count;
  }

  push(segmentSeq: number, p: EntryPlacement): void {
    invariant(p.index === this.lastIndex() + 1, () => `entry index: pushing ${p.index} after ${this.lastIndex()}`);
    if (this.head + this.count === this.terms.length) this.makeRoom();
    const slot = this.head + this.count;
    this.terms[slot] = p.term;
    this.offsets[slot] = p.offset;
    this.segments[slot] = segmentSeq;
    this.lengths[slot] = p.length;
    this.crcs[slot] = p.crc;
    this.kinds[slot] = p.kind === 'normal' ? 0 : 1;
    this.count++;
  }

  /** Keeps entries < i. */
  truncateFrom(i: number): void {
    this.count = Math.max(0, Math.min(this.count, i - this.firstIndex));
  }

  /** Drops entries <= i. */
  dropThrough(i: number): void {
    const drop = Math.min(this.count, Math.max(0, i - this.firstIndex + 1));
    this.head += drop;
    this.count -= drop;
    this.firstIndex += drop;
    if (this.count === 0) this.reset(Math.max(i, this.firstIndex - 1));
  }

  has(i: number): boolean {
    return i >= this.firstIndex && i <= this.lastIndex();
  }

  term(i: number): number {
    return this.terms[this.slot(i)]!;
  }

  get(i: number): EntryLocation {
    const s = this.slot(i);
    return {
      index: i,
      term: this.terms[s]!,
      kind: this.kinds[s] === 0 ? 'normal' : 'confChange',
      segmentSeq: this.segments[s]!,
      offset: this.offsets[s]!,
      length: this.lengths[s]!,
      crc: this.crcs[s]!,
    };
  }

  private slot(i: number): number {
    invariant(this.has(i), () => `entry index: ${i} not in [${this.firstIndex}, ${this.lastIndex()}]`);
    return this.head + (i - this.firstIndex);
  }

  /** Slides live slots to the front when over half the array is dropped ones, else doubles. */
  private makeRoom(): void {
    const capacity = this.head > this.terms.length / 2 ? this.terms.length : this.terms.length * 2;
    const move = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, fresh: T): T => {
      fresh.set(old.subarray(this.head, this.head + this.count));
      return fresh;
    };
    this.terms = move(this.terms, new Float64Array(capacity));
    this.offsets = move(this.offsets, new Float64Array(capacity));
    this.segments = move(this.segments, new Uint32Array(capacity));
    this.lengths = move(this.lengths, new Uint32Array(capacity));
    this.crcs = move(this.crcs, new Uint32Array(capacity));
    this.kinds = move(this.kinds, new Uint8Array(capacity));
    this.head = 0;
  }
}
