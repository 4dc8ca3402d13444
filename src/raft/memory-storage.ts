import { RaftError, errCompacted, errUnavailable, invariant } from './errors.js';
import type { Storage } from './storage.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { emptyHardState, entrySize } from './types.js';
import { bootstrapEntries } from './conf-change.js';
import { limitSize } from './util.js';

const emptyConfState: ConfState = { voters: [], learners: [] };

/**
 * The reference Storage: everything in memory. Its `append`, `setHardState`, `applySnapshot`,
 * `compact` and `createSnapshot` are what a durable storage does on disk.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState;
  private snap: Snapshot = {
    metadata: { index: 0, term: 0, confState: emptyConfState },
    data: new Uint8Array(0),
  };
  /** ents[0] is a dummy standing for the compaction point: its index and term only. */
  private ents: Entry[] = [dummy(0, 0)];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  /**
   * Starts a brand-new cluster: its initial membership is written as committed log entries (see
   * bootstrapEntries), so a node added later learns it by replicating the log like anything else.
   */
  bootstrap(confState: ConfState): void {
    invariant(this.lastIndex() === 0 && this.snap.metadata.index === 0, 'bootstrap needs an empty storage');
    const entries = bootstrapEntries(confState);
    this.append(entries);
    this.hardState = { term: 1, vote: null, commit: entries.length };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw errCompacted(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw errUnavailable(hi - 1, this.lastIndex());
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw errCompacted(i, this.firstIndex());
    if (i - offset >= this.ents.length) throw errUnavailable(i, this.lastIndex());
    return this.at(i - offset).term;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with the snapshot (a follower installing one). Older ones are ignored. */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot at ${snap.metadata.index} is older than ${this.snap.metadata.index}`);
    }
    this.snap = snap;
    this.ents = [dummy(snap.metadata.index, snap.metadata.term)];
  }

  /** Records a snapshot of application state as of `index` (which must be applied). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
    }
    invariant(index <= this.lastIndex(), `snapshot index ${index} is past the last index ${this.lastIndex()}`);
    this.snap = { metadata: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Discards entries up to and including `compactIndex` (which must be covered by a snapshot). */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) throw errCompacted(compactIndex, this.firstIndex());
    invariant(compactIndex <= this.lastIndex(), `compact ${compactIndex} is past the last index ${this.lastIndex()}`);
    const keep = this.at(compactIndex - offset);
    this.ents = [dummy(keep.index, keep.term), ...this.ents.slice(compactIndex - offset + 1)];
  }

  /**
   * Appends entries, truncating any conflicting suffix first. Entries must be contiguous and must
   * not leave a gap after the current last index.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assertContiguous(entries);
    const firstHeld = this.firstIndex();
    const last = first.index + entries.length - 1;
    if (last < firstHeld) return; // Entirely compacted already: nothing to do.
    const fresh = first.index < firstHeld ? entries.slice(firstHeld - first.index) : entries;
    const freshFirst = fresh[0];
    invariant(freshFirst !== undefined, 'append: nothing left after trimming');
    invariant(freshFirst.index <= this.lastIndex() + 1, () => `append at ${freshFirst.index} leaves a gap after ${this.lastIndex()}`);
    // Truncate a conflicting suffix (if any), then append in place: appends must stay O(new).
    this.ents.length = freshFirst.index - this.offset();
    for (const e of fresh) this.ents.push(e);
  }

  /** Total payload size held, for tests and metrics. */
  byteSize(): number {
    return this.ents.reduce((sum, e) => sum + entrySize(e), 0);
  }

  private offset(): number {
    return this.at(0).index;
  }

  private at(i: number): Entry {
    const e = this.ents[i];
    invariant(e !== undefined, `memory storage: no entry at position ${i}`);
    return e;
  }
}

function dummy(index: number, term: number): Entry {
  return { kind: 'normal', index, term, data: new Uint8Array(0) };
}

export function assertContiguous(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    const cur = entries[i]!;
    invariant(cur.index === prev.index + 1, () => `entries not contiguous: ${prev.index} then ${cur.index}`);
    invariant(cur.term >= prev.term, () => `entry terms decrease: ${prev.term} then ${cur.term} at ${cur.index}`);
  }
}
