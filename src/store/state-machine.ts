/**
 * The replicated state machine of a node: what a committed Raft entry does, over the NeDB
 * catalog and the chunk store. The node runtime calls, in Raft's order:
 *   apply(entry.index, entry.data) for every committed entry (empty data for no-ops and
 *   membership changes), snapshot() when compacting the log, restore() when installing a snapshot.
 * Every mutation runs exclusively of the others; reads go through `catalog` at any time.
 */
import { join } from 'node:path';
import { applyDecoded, clockAfter, decodeEntry } from './apply.js';
import type { ApplyResult } from './apply-context.js';
import { Catalog } from './catalog.js';
import type { CatalogDoc } from './catalog-docs.js';
import { CatalogQueries } from './catalog-queries.js';
import { ChunkStore, type ChunkProblem } from './chunk-store.js';
import { StoreError } from './errors.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-format.js';

export interface StateMachineInit {
  /** Holds `catalog.db` and `chunks/`. */
  readonly dataDir: string;
  /** false skips every fsync (tests and benches only). */
  readonly fsync?: boolean;
  /** See CatalogInit.compactAfterLines. */
  readonly compactAfterLines?: number;
}

export interface LogEntryData {
  readonly index: number;
  readonly data: Uint8Array;
}

export interface ExportedState {
  readonly appliedIndex: number;
  /** Every document, meta included, sorted by _id, deep-copied. */
  readonly docs: readonly CatalogDoc[];
}

/** The seed's lease. */
export const DEFAULT_LEASE_MS = 30_000;
/** Unreferenced chunks younger than this survive GC: they may belong to an upload whose commitFile is still coming. */
export const GC_GRACE_MS = 2 * DEFAULT_LEASE_MS;

export const catalogPath = (dataDir: string) => join(dataDir, 'catalog.db');
const catalogInit = (init: StateMachineInit) => ({ fsync: init.fsync ?? true, compactAfterLines: init.compactAfterLines });

export class StateMachine {
  readonly catalog: CatalogQueries;
  private tail: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;

  private constructor(
    private readonly init: StateMachineInit,
    readonly chunks: ChunkStore,
    private current: Catalog,
    /** true when there was no catalog file to load (a new node, or one whose catalog was lost). */
    readonly openedFresh: boolean,
  ) {
    this.catalog = new CatalogQueries(() => this.current);
  }

  /** Throws CatalogCorruptError if the catalog cannot be trusted: use openStateMachine (recovery.ts) to rebuild it. */
  static async open(init: StateMachineInit): Promise<StateMachine> {
    const chunks = await ChunkStore.open(join(init.dataDir, 'chunks'), { fsync: init.fsync ?? true });
    const { catalog, existed } = await Catalog.open(catalogPath(init.dataDir), catalogInit(init));
    return new StateMachine(init, chunks, catalog, !existed);
  }

  get appliedIndex(): number {
    return this.current.appliedIndex;
  }

  /** Equal on every node that applied the same entries (a state machine hash for cluster verifiers). */
  get stateDigest(): string {
    return this.current.digestHex;
  }

  apply(index: number, data: Uint8Array): Promise<ApplyResult> {
    return this.exclusive(() => this.applyTo(this.current, index, data));
  }

  /** The state as of the applied index. Chunks applied without fsync are made durable first: the log that holds their bytes may be compacted once this snapshot exists. */
  snapshot(): Promise<Uint8Array> {
    return this.exclusive(async () => {
      await this.chunks.syncPending();
      return encodeSnapshot(this.current.metaDoc, this.current.dataDocs(), this.current.refs.sorted());
    });
  }

  /** Replaces the catalog with the snapshot's; returns the referenced chunks this node lacks (fetch them from peers by hash). */
  async restore(snapshot: Uint8Array): Promise<{ appliedIndex: number; missingChunks: string[] }> {
    const content = decodeSnapshot(snapshot, 'being restored');
    return this.exclusive(async () => {
      const staged = await Catalog.fromDocs(content.docs, catalogInit(this.init));
      await this.guard(() => this.install(staged));
      return { appliedIndex: content.meta.appliedIndex, missingChunks: await this.absent(content.referencedChunks) };
    });
  }

  /** Rebuilds the catalog from a snapshot (or from nothing) plus the committed entries after it, then replaces it atomically. */
  async rebuild(snapshot: Uint8Array | null, entries: Iterable<LogEntryData> | AsyncIterable<LogEntryData>): Promise<void> {
    const content = snapshot === null ? null : decodeSnapshot(snapshot, 'used for the rebuild');
    await this.exclusive(async () => {
      const staged = content === null ? await Catalog.empty(catalogInit(this.init)) : await Catalog.fromDocs(content.docs, catalogInit(this.init));
      for await (const entry of entries) await this.applyTo(staged, entry.index, entry.data);
      await this.guard(() => this.install(staged));
    });
  }

  /** Deletes chunks no file references, last written before the grace period and before any upload still holding a lock began. */
  async gc(options: { nowMs?: number; graceMs?: number } = {}): Promise<{ deleted: string[] }> {
    const { nowMs = Date.now(), graceMs = GC_GRACE_MS } = options;
    const active = (await this.catalog.listLocks()).filter((l) => l.leaseExpiresAtMs > nowMs);
    const oldestUploadMs = active.reduce((oldest, l) => Math.min(oldest, l.acquiredAtMs), nowMs);
    return this.chunks.gc({
      isReferenced: (hash) => this.current.refs.isReferenced(hash),
      olderThanMs: oldestUploadMs - graceMs,
      exclusive: (fn) => this.exclusive(fn),
    });
  }

  /** Corrupt chunks, plus referenced chunks that are missing. Repair: fetch by hash from a peer, then chunks.put. */
  async scrub(): Promise<ChunkProblem[]> {
    const problems = await this.chunks.scrub();
    const missing = await this.missingChunks();
    return [...problems, ...missing.map((hash) => ({ hash, path: this.chunks.pathOf(hash), reason: 'missing' as const }))];
  }

  /** Referenced chunks with no file here. */
  missingChunks(): Promise<string[]> {
    return this.absent(this.current.refs.sorted());
  }

  referenceCount(hash: string): number {
    return this.current.refs.count(hash);
  }

  exportState(): ExportedState {
    const docs = JSON.parse(JSON.stringify([this.current.metaDoc, ...this.current.dataDocs()])) as CatalogDoc[];
    docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    return { appliedIndex: this.appliedIndex, docs };
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      await this.current.close();
      this.failure = new StoreError('STATE_MACHINE_FAILED', 'the state machine is closed; open it again');
    });
  }

  private async applyTo(catalog: Catalog, index: number, data: Uint8Array): Promise<ApplyResult> {
    const applied = catalog.appliedIndex;
    if (index <= applied) return { ok: true, command: 'alreadyApplied' };
    if (index !== applied + 1) {
      throw new StoreError(
        'APPLY_OUT_OF_ORDER',
        `entry ${index} cannot follow applied index ${applied}: apply every committed entry in order (restore a snapshot to skip ahead)`,
      );
    }
    const entry = decodeEntry(data); // throws only for a newer format: nothing written yet
    const clockMs = clockAfter(entry, catalog.clockMs);
    return this.guard(async () => {
      const result = await applyDecoded({ index, clockMs, catalog, chunks: this.chunks }, entry);
      await catalog.commitMeta(index, clockMs);
      return result;
    });
  }

  /** The staged catalog replaces the current one: its full image is written atomically over the datafile. */
  private async install(staged: Catalog): Promise<void> {
    await this.current.dispose();
    await staged.attach(catalogPath(this.init.dataDir));
    this.current = staged;
  }

  private async absent(hashes: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const hash of hashes) if (!(await this.chunks.has(hash))) out.push(hash);
    return out;
  }

  /** A failure half-way through a write leaves memory and disk unknown: refuse everything until a restart re-verifies. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.failure = new StoreError(
        'STATE_MACHINE_FAILED',
        `the state machine stopped after a failed write (${(error as Error).message}); restart the node: opening verifies the catalog and rebuilds it if needed`,
        { cause: error },
      );
      throw error;
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.failure !== null) throw this.failure;
      return fn();
    });
    this.tail = run.catch(() => {});
    return run;
  }
}
