import { RaftError, invariant } from './errors.js';
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { entrySize } from './types.js';
import { Unstable } from './unstable.js';
import { limitSize } from './util.js';

/**
 * The log as the core sees it: durable entries (read through Storage) followed by unstable ones.
 * committed and applied only move forward.
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly maxApplyBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the compaction point was committed and applied (it is in the snapshot).
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The last index already durable (entries after it are still unstable). */
  stableLastIndex(): number {
    return Math.min(this.lastIndex(), this.unstable.offset - 1);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    invariant(t !== null, 'the last entry has no term');
    return t;
  }

  /** Term of entry i, or null if it is compacted away or does not exist. */
  term(i: number): number | null {
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex || i > this.lastIndex()) return null;
    const t = this.unstable.maybeTerm(i);
    if (t !== null) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof RaftError && (e.code === 'COMPACTED' || e.code === 'UNAVAILABLE')) return null;
      throw e;
    }
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our log matches at (prevIndex, prevTerm), append the new
   * entries (truncating a conflicting suffix) and advance commit. Returns the last new index, or
   * null on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      invariant(conflict > this.committed, () => `entry ${conflict} conflicts with the committed prefix (commit ${this.committed})`);
      this.append(ents.slice(conflict - (prevIndex + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    invariant(first.index - 1 >= this.committed, () => `append at ${first.index} would overwrite committed ${this.committed}`);
    invariant(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Index of the first entry whose term differs from ours (or that we lack); 0 if none. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the compaction point). Used both by
   * a follower rejecting an append and by the leader to skip whole terms when backtracking.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    const floor = this.firstIndex() - 1;
    while (i > floor) {
      const t = this.term(i);
      if (t === null || t <= term) return i;
      i--;
    }
    return floor;
  }

  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    invariant(commit <= this.lastIndex(), () => `commit ${commit} is past the last index ${this.lastIndex()}; the log is corrupt, truncated or lost`);
    this.committed = commit;
  }

  /** Commits `index` if it is in `term` (Raft §5.4.2: only current-term entries by counting). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(index <= this.committed && index >= this.applied, () => `applied(${index}) outside [applied ${this.applied}, committed ${this.committed}]`);
    this.applied = index;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  /** Committed entries not yet applied, bounded in size. */
  nextCommittedEntries(): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxApplyBytes);
  }

  hasNextCommittedEntries(): boolean {
    return !this.hasPendingSnapshot() && this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Entries from `lo` to the end, bounded by maxBytes; null if `lo` is compacted. */
  entriesFrom(lo: number, maxBytes: number): Entry[] | null {
    if (lo > this.lastIndex()) return [];
    if (lo < this.firstIndex()) return null;
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) bounded by maxBytes, reading storage then unstable. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    invariant(lo >= this.firstIndex() && hi <= this.lastIndex() + 1 && lo <= hi, () => `slice(${lo},${hi}) out of [${this.firstIndex()},${this.lastIndex() + 1}]`);
    const offset = this.unstable.offset;
    if (hi <= offset) return this.storage.entries(lo, hi, maxBytes);
    if (lo >= offset) return this.unstable.sliceBounded(lo, hi, maxBytes);
    const head = this.storage.entries(lo, offset, maxBytes);
    if (head.length < offset - lo) return head; // Size limit reached in storage.
    const used = head.reduce((s, e) => s + entrySize(e), 0);
    if (used >= maxBytes) return head;
    const tail = this.unstable.sliceBounded(offset, hi, maxBytes - used);
    return limitSize([...head, ...tail], maxBytes);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replace the log with a snapshot (a follower installing one). */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }
}
