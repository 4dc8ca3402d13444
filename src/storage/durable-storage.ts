import { RaftError, bootstrapEntries, invariant, type ConfState, type Entry, type HardState, type Snapshot, type Storage } from '../raft/index.js';
import { DurableLog, compacted } from './durable-log.js';
import { consoleLogger, type StorageLogger } from './logger.js';
import { pruneSnapshotFiles, readSnapshotFile, writeSnapshotFile } from './snapshot-files.js';
import type { LogMarker } from './wal/records.js';
import { WriteOrder } from './write-order.js';

export interface DurableStorageOptions {
  /** A WAL segment is closed once it reaches this size. Default 64 MiB. */
  readonly segmentBytesMax?: number;
  /**
   * At most this much is written per group commit (always at least one save). Default 8 MiB:
   * small enough that checksumming the next round overlaps this one's I/O.
   */
  readonly roundBytesMax?: number;
  /** Recent entries kept in memory; older ones are read from their segment. Default 64 MiB. */
  readonly cacheBytesMax?: number;
  readonly logger?: StorageLogger;
}

/** The persistence half of a Ready (see RaftNode.ready): what `save` makes durable. */
export interface SaveRequest {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly mustSync: boolean;
}

const MiB = 1024 * 1024;
const defaults = { segmentBytesMax: 64 * MiB, roundBytesMax: 8 * MiB, cacheBytesMax: 64 * MiB };

/**
 * The Raft core's Storage on disk: entries and hard state in a write-ahead log (wal/), snapshots
 * in checksummed files (snap/). Reads are synchronous, as the core needs; writes are promises that
 * resolve once durable, group-committed with whatever else is in flight.
 *
 * Reads see what is durable: a `save` becomes visible when its promise resolves. That is all the
 * core asks: it keeps entries in its unstable log until `advance`.
 */
export class DurableStorage implements Storage {
  private readonly order: WriteOrder;

  private constructor(
    readonly dataDir: string,
    private readonly log: DurableLog,
    private latestSnapshot: Snapshot,
    private readonly logger: StorageLogger,
  ) {
    this.order = new WriteOrder(() => log.idle());
  }

  /** Opens (creating if needed) the storage in `dataDir`, recovering it; refuses with WAL_CORRUPT / SNAPSHOT_CORRUPT. */
  static async open(dataDir: string, options: DurableStorageOptions = {}): Promise<DurableStorage> {
    const opts = { ...defaults, logger: consoleLogger, ...options };
    invariant(opts.segmentBytesMax >= 4096, `segmentBytesMax ${opts.segmentBytesMax} is too small to hold a segment header`);
    const log = await DurableLog.open(dataDir, opts);
    try {
      const meta = log.state.snapshot;
      const snapshot = meta.index === 0 ? { metadata: meta, data: new Uint8Array(0) } : await readSnapshotFile(dataDir, meta);
      await pruneSnapshotFiles(dataDir, meta, { sweepTempFiles: true });
      return new DurableStorage(dataDir, log, snapshot, opts.logger);
    } catch (e) {
      await log.close();
      throw e;
    }
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.log.state.hardState, confState: this.latestSnapshot.metadata.confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.log.entries(lo, hi, maxBytes);
  }

  term(i: number): number {
    return this.log.term(i);
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  /**
   * Persists a Ready's snapshot, entries and hard state, in that order; resolves once durable
   * (only written, when `mustSync` is false). Appending at index i replaces any entries from i on.
   */
  save(req: SaveRequest): Promise<void> {
    if (req.snapshot !== null) {
      const snap = req.snapshot;
      return this.order.exclusive(() => this.installSnapshot(snap, req));
    }
    return this.order.inOrder(() => this.log.append({ leading: [], entries: req.entries, hardState: req.hardState, sync: req.mustSync }));
  }

  /** Starts a brand-new cluster, as MemoryStorage.bootstrap: membership as committed entries at term 1. */
  bootstrap(confState: ConfState): Promise<void> {
    return this.order.exclusive(async () => {
      invariant(this.lastIndex() === 0 && this.latestSnapshot.metadata.index === 0, 'bootstrap needs an empty storage');
      const entries = bootstrapEntries(confState);
      await this.log.append({ leading: [], entries, hardState: { term: 1, vote: null, commit: entries.length }, sync: true });
    });
  }

  /**
   * A node rebuilt from its peers starts empty but for the term it was re-admitted in and a vote
   * for the leader that admitted it: its lost incarnation may have voted in any term up to that
   * one, and must not be able to vote twice.
   */
  seedHardState(term: number, vote: string): Promise<void> {
    return this.order.exclusive(async () => {
      invariant(this.lastIndex() === 0 && this.latestSnapshot.metadata.index === 0, 'seedHardState needs an empty storage');
      invariant(term >= 1, `a rebuilt node starts at a real term, not ${term}`);
      await this.log.append({ leading: [], entries: [], hardState: { term, vote, commit: 0 }, sync: true });
    });
  }

  /** Records a snapshot of application state as of `index` (applied, hence durable here). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    return this.order.exclusive(async () => {
      const current = this.latestSnapshot.metadata.index;
      if (index <= current) throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot at ${index} is not newer than ${current}`);
      invariant(index <= this.lastIndex(), `snapshot index ${index} is past the last index ${this.lastIndex()}`);
      const snap: Snapshot = { metadata: { index, term: this.term(index), confState }, data };
      // The file first: the log must never point at a snapshot that is not on disk.
      await writeSnapshotFile(this.dataDir, snap);
      await this.appendMarker({ ...this.log.state.marker(), snapshot: snap.metadata }, snap);
      await this.pruneSnapshots();
      return snap;
    });
  }

  /** Replaces everything with `snap` (a follower installing one), as MemoryStorage.applySnapshot. */
  applySnapshot(snap: Snapshot): Promise<void> {
    return this.save({ snapshot: snap, entries: [], hardState: null, mustSync: true });
  }

  /** Discards entries through `index`, which a snapshot must cover; deletes segments left with nothing newer. */
  compact(index: number): Promise<void> {
    return this.order.exclusive(async () => {
      if (index < this.firstIndex()) throw compacted(index, this.firstIndex());
      invariant(index <= this.lastIndex(), `compact ${index} is past the last index ${this.lastIndex()}`);
      const covered = this.latestSnapshot.metadata.index;
      invariant(index <= covered, `compact ${index} is not covered by the snapshot at ${covered}: create a snapshot first`);
      await this.appendMarker({ ...this.log.state.marker(), startIndex: index, startTerm: this.term(index) }, null);
      await this.log.removeSegmentsThrough(index);
    });
  }

  /** Waits for writes in flight, then closes. Later writes reject with CLOSED; do not read after. */
  async close(): Promise<void> {
    await this.order.exclusive(async () => {});
    await this.log.close();
  }

  stats(): ReturnType<DurableLog['stats']> {
    return this.log.stats();
  }

  private async installSnapshot(snap: Snapshot, req: SaveRequest): Promise<void> {
    const current = this.latestSnapshot.metadata.index;
    if (snap.metadata.index <= current) throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot at ${snap.metadata.index} is older than ${current}`);
    await writeSnapshotFile(this.dataDir, snap);
    const marker: LogMarker = { snapshot: snap.metadata, startIndex: snap.metadata.index, startTerm: snap.metadata.term, resetsLog: true };
    this.log.projectReset(snap.metadata.index);
    const append = { leading: [{ type: 'logMarker' as const, marker }], entries: req.entries, hardState: req.hardState, sync: true };
    await this.log.append(append, () => (this.latestSnapshot = snap));
    await this.pruneSnapshots();
  }

  private appendMarker(marker: LogMarker, snap: Snapshot | null): Promise<void> {
    const append = { leading: [{ type: 'logMarker' as const, marker }], entries: [], hardState: null, sync: true };
    return this.log.append(append, () => {
      if (snap !== null) this.latestSnapshot = snap;
    });
  }

  /** Older snapshot files are only a fallback once a newer one is durable: failing to prune is not fatal. */
  private async pruneSnapshots(): Promise<void> {
    try {
      await pruneSnapshotFiles(this.dataDir, this.latestSnapshot.metadata, { sweepTempFiles: false });
    } catch (e) {
      this.logger.warn(`storage: could not prune old snapshots in ${this.dataDir}: ${String(e)}`);
    }
  }
}
