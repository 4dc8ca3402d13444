import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * What the core reads of durable state. Read-only on purpose: the core never writes; the caller
 * persists what a Ready says and then tells the core through `advance`. Implementations:
 * MemoryStorage (reference, used by tests and the simulator) and the node's WAL-backed storage.
 *
 * Indexes: the log holds entries (firstIndex()-1, lastIndex()]; entry firstIndex()-1 is only
 * known by its term (the snapshot's or compaction point's), never by its content.
 */
export interface Storage {
  /** The persisted hard state and membership at start. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any exist, at most `maxBytes` in total otherwise.
   * Throws COMPACTED if lo < firstIndex(), UNAVAILABLE if hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. Throws COMPACTED / UNAVAILABLE. */
  term(i: number): number;
  lastIndex(): number;
  firstIndex(): number;
  /** The latest snapshot. May throw SNAPSHOT_TEMPORARILY_UNAVAILABLE while one is being made. */
  snapshot(): Snapshot;
}
