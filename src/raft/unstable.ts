import { invariant } from './errors.js';
import type { Entry, Snapshot } from './types.js';
import { entrySize } from './types.js';

/**
 * Entries and a snapshot the core has accepted but the caller has not yet reported durable.
 * entries[i] has index offset + i. Everything here is handed out in the next Ready.
 */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  maybeFirstIndex(): number | null {
    return this.snapshot ? this.snapshot.metadata.index + 1 : null;
  }

  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : null;
  }

  maybeTerm(i: number): number | null {
    if (i < this.offset) {
      return this.snapshot?.metadata.index === i ? this.snapshot.metadata.term : null;
    }
    const last = this.maybeLastIndex();
    if (last === null || i > last) return null;
    return this.entries[i - this.offset]!.term;
  }

  /** The caller has persisted entries up to (index, term): forget them here. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    // A mismatch means the entries were replaced after the Ready was handed out: keep the new ones.
    if (t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot?.metadata.index === index) this.snapshot = null;
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after <= this.offset) {
      // Replaces everything unstable, and (once persisted) the durable suffix from `after` on.
      this.offset = after;
      this.entries = [];
    } else {
      this.entries.length = Math.min(this.entries.length, after - this.offset);
    }
    for (const e of ents) this.entries.push(e);
  }

  /** Entries from lo (at most up to hi) whose sizes add up to at most maxBytes, but at least one. */
  sliceBounded(lo: number, hi: number, maxBytes: number): Entry[] {
    invariant(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable.slice(${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length}]`);
    let end = lo - this.offset;
    const stop = hi - this.offset;
    let bytes = 0;
    while (end < stop) {
      bytes += entrySize(this.entries[end]!);
      if (bytes > maxBytes && end > lo - this.offset) break;
      end++;
    }
    return this.entries.slice(lo - this.offset, end);
  }
}
