import path from 'node:path';
import { RaftError, invariant, type Entry, type HardState } from '../raft/index.js';
import { EntryCache } from './entry-cache.js';
import { EntryReader, locationEntrySize } from './entry-reader.js';
import type { StorageLogger } from './logger.js';
import { LogState } from './log-state.js';
import type { EntryPlacement, WalRecord } from './wal/records.js';
import { Wal, type WalStats } from './wal/wal.js';
import { Projection } from './write-order.js';

export interface DurableLogOptions {
  readonly segmentBytesMax: number;
  readonly roundBytesMax: number;
  readonly cacheBytesMax: number;
  readonly logger: StorageLogger;
}

/** What one WAL append carries: leading records (a marker), then entries, then hard state. */
export interface LogAppend {
  readonly leading: readonly WalRecord[];
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
  readonly sync: boolean;
}

/**
 * The Raft log and hard state on top of the WAL: synchronous reads through the in-memory index
 * (and the entry cache, and the segments), appends validated at call time against where queued
 * appends will leave the log, and applied to the index once durable.
 */
export class DurableLog {
  private readonly cache: EntryCache;
  private readonly reader: EntryReader;
  private readonly projection: Projection;

  private constructor(
    private readonly wal: Wal,
    readonly state: LogState,
    walDir: string,
    dataDir: string,
    cacheBytesMax: number,
  ) {
    this.cache = new EntryCache(cacheBytesMax);
    this.reader = new EntryReader(wal, this.cache, walDir, dataDir);
    this.projection = new Projection(state.startIndex, state.lastIndex());
  }

  /** Recovers the WAL under `dataDir`/wal (see recoverSegments for what it refuses). */
  static async open(dataDir: string, opts: DurableLogOptions): Promise<DurableLog> {
    const walDir = path.join(dataDir, 'wal');
    const state = new LogState();
    let log: DurableLog | null = null;
    const wal = await Wal.open(walDir, { ...opts, dataDir, segmentHeader: () => segmentHeader(state), onAbort: () => log?.resetProjection() }, (record, seq) =>
      state.apply(record, seq),
    );
    log = new DurableLog(wal, state, walDir, dataDir, opts.cacheBytesMax);
    return log;
  }

  firstIndex(): number {
    return this.state.startIndex + 1;
  }

  lastIndex(): number {
    return this.state.lastIndex();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw compacted(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw unavailable(hi - 1, this.lastIndex());
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const loc = this.state.index.get(i);
      bytes += locationEntrySize(loc);
      // Sizes come from the index, so entries past the limit are never read from disk.
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(this.reader.read(loc));
    }
    return out;
  }

  term(i: number): number {
    if (i < this.state.startIndex) throw compacted(i, this.firstIndex());
    if (i > this.lastIndex()) throw unavailable(i, this.lastIndex());
    return this.state.termAt(i);
  }

  /** Moves the projection for a log-replacing snapshot queued next. */
  projectReset(index: number): void {
    this.projection.startIndex = this.projection.lastIndex = index;
  }

  /**
   * Validates `append` against the projection (MemoryStorage.append's rules), queues it on the
   * WAL and applies it once durable; `onDurable` runs right after, before the promise resolves.
   */
  append(append: LogAppend, onDurable: () => void = () => {}): Promise<void> {
    let entries: Entry[];
    try {
      entries = this.projection.planAppend(append.entries);
    } catch (e) {
      return Promise.reject(e);
    }
    const records: WalRecord[] = [...append.leading];
    if (entries.length > 0) records.push({ type: 'entries', entries });
    if (append.hardState !== null) records.push({ type: 'hardState', hardState: append.hardState });
    if (records.length === 0) return Promise.resolve();
    return this.wal.append(records, append.sync, (seq, placements) => {
      this.applyDurable(records, seq, placements);
      onDurable();
    });
  }

  removeSegmentsThrough(index: number): Promise<number> {
    return this.wal.removeSegmentsThrough(index);
  }

  idle(): Promise<void> {
    return this.wal.idle();
  }

  close(): Promise<void> {
    return this.wal.close();
  }

  stats(): WalStats & { cachedBytes: number; oldestSegment: number } {
    return { ...this.wal.stats(), cachedBytes: this.cache.byteSize(), oldestSegment: this.wal.oldestSegment() };
  }

  private applyDurable(records: readonly WalRecord[], seq: number, placementsByRecord: readonly EntryPlacement[][]): void {
    records.forEach((record, i) => {
      if (record.type === 'entries') {
        const first = record.entries[0]!.index;
        if (first <= this.state.lastIndex()) this.cache.deleteFrom(first);
        applyOrDie(this.state.apply({ type: 'entries', placements: placementsByRecord[i]! }, seq));
        for (const e of record.entries) this.cache.put(e);
        return;
      }
      applyOrDie(this.state.apply(record, seq));
      if (record.type !== 'logMarker') return;
      if (record.marker.resetsLog) this.cache.clear();
      else this.cache.deleteThrough(record.marker.startIndex);
    });
  }

  /** Queued appends were all rejected: what they promised never comes. */
  private resetProjection(): void {
    this.projection.startIndex = this.state.startIndex;
    this.projection.lastIndex = this.state.lastIndex();
  }
}

/** A new segment opens with the hard state, the marker, and where the log ends. */
function segmentHeader(state: LogState): { prevIndex: number; prevTerm: number; records: WalRecord[] } {
  const last = state.lastIndex();
  return {
    prevIndex: last,
    prevTerm: state.termAt(last),
    records: [
      { type: 'hardState', hardState: state.hardState },
      { type: 'logMarker', marker: state.marker() },
    ],
  };
}

function applyOrDie(problem: string | null): void {
  invariant(problem === null, () => `storage: a durable record does not apply to the log: ${problem}`);
}

export const compacted = (index: number, firstIndex: number): RaftError =>
  new RaftError('COMPACTED', `index ${index} is compacted; first available index is ${firstIndex}`);
const unavailable = (index: number, lastIndex: number): RaftError => new RaftError('UNAVAILABLE', `index ${index} is past the last index ${lastIndex}`);
