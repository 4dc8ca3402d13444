import { emptyHardState, type HardState, type SnapshotMetadata } from '../raft/index.js';
import { EntryIndex } from './entry-index.js';
import type { DecodedRecord, EntryPlacement, LogMarker } from './wal/records.js';

/**
 * What the records of the WAL add up to: hard state, latest snapshot, where the log starts, and
 * the index of every entry after that. Recovery replays records into it; at run time each append
 * is applied once durable. The same code for both is what keeps them in agreement.
 *
 * Replay may begin at any segment (older ones get deleted by compaction). It then starts from
 * that segment's segmentStart (the log's last index and term when the segment began) and knows
 * nothing before it, so until a marker moves the start forward it tracks only the entries after
 * that point. That is exact for them: an entries record at i truncates everything >= i, so one
 * that begins at or before the start truncates everything after it. A segment is deleted only
 * after a marker compacting past all its entries is durable in a later one, so by the end of
 * replay the start is a real compaction point again.
 */
export class LogState {
  hardState: HardState = emptyHardState;
  snapshot: SnapshotMetadata = { index: 0, term: 0, confState: { voters: [], learners: [] } };
  /** Entries <= startIndex are compacted; startTerm is the term of startIndex. */
  startIndex = 0;
  startTerm = 0;
  readonly index = new EntryIndex();
  private started = false;

  lastIndex(): number {
    return this.index.lastIndex();
  }

  /** Term of i in [startIndex, lastIndex()], the caller having checked the range. */
  termAt(i: number): number {
    return i === this.startIndex ? this.startTerm : this.index.term(i);
  }

  marker(): LogMarker {
    return { snapshot: this.snapshot, startIndex: this.startIndex, startTerm: this.startTerm, resetsLog: false };
  }

  /** Applies one record; returns why it cannot follow what came before, or null. */
  apply(record: DecodedRecord, segmentSeq: number): string | null {
    switch (record.type) {
      case 'segmentStart':
        if (!this.started) this.restartAt(record.prevIndex, record.prevTerm);
        this.started = true;
        return null;
      case 'hardState':
        this.hardState = record.hardState;
        return null;
      case 'logMarker':
        return this.applyMarker(record.marker);
      case 'entries':
        return this.applyEntries(segmentSeq, record.placements);
    }
  }

  private restartAt(index: number, term: number): void {
    this.startIndex = index;
    this.startTerm = term;
    this.index.reset(index);
  }

  private applyMarker(m: LogMarker): string | null {
    this.snapshot = m.snapshot;
    if (m.resetsLog) {
      this.restartAt(m.startIndex, m.startTerm);
      return null;
    }
    if (m.startIndex < this.startIndex) return null; // Older than where this replay began: already covered.
    if (m.startIndex > this.lastIndex()) return `log marker compacts through ${m.startIndex}, past the log's last index ${this.lastIndex()}`;
    if (m.startIndex > this.startIndex && this.index.term(m.startIndex) !== m.startTerm) {
      return `log marker says entry ${m.startIndex} has term ${m.startTerm}, the log has term ${this.index.term(m.startIndex)}`;
    }
    this.index.dropThrough(m.startIndex);
    this.startIndex = m.startIndex;
    this.startTerm = m.startTerm;
    return null;
  }

  private applyEntries(segmentSeq: number, placements: readonly EntryPlacement[]): string | null {
    const first = placements[0];
    if (first === undefined) return null;
    if (first.index > this.lastIndex() + 1) return `entries start at ${first.index}, leaving a gap after the log's last index ${this.lastIndex()}`;
    // Truncate even when every entry is at or before the start: see the class comment.
    const truncateAt = Math.max(first.index, this.startIndex + 1);
    this.index.truncateFrom(truncateAt);
    for (const p of placements) if (p.index >= truncateAt) this.index.push(segmentSeq, p);
    return null;
  }
}
