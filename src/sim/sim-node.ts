import { MemoryStorage, RaftNode, type ConfState, type Entry, type NodeId, type Raft, type RaftConfig, type Ready } from '../raft/index.js';
import type { SafetyChecker } from './checkers.js';
import { KvStore, decodeCommand } from './kv.js';
import type { KvResult } from './linearizability/index.js';

/** A proposal this node made for a client, waiting to be applied here. */
export interface PendingProposal {
  readonly opId: number;
  readonly index: number;
  readonly term: number;
}

/** A linearizable read waiting for its read index, then for applied to reach it. */
export interface PendingRead {
  readonly opId: number;
  readonly key: string;
  index: number | null;
}

export type ClientOutcome =
  | { readonly opId: number; readonly result: KvResult }
  | { readonly opId: number; readonly failed: string }
  /** The node can no longer tell (its log was replaced by a snapshot covering the proposal). */
  | { readonly opId: number; readonly unknown: string };

export interface SimNodeOptions {
  readonly id: NodeId;
  readonly raftConfig: Omit<RaftConfig, 'id' | 'storage' | 'applied'>;
  readonly createRaft: (c: RaftConfig) => Raft;
  readonly checker: SafetyChecker;
  /** Take a snapshot and compact once this many entries are applied since the last one. */
  readonly snapshotEvery: number;
  /** Entries kept behind a snapshot, so slightly lagging followers still catch up from the log. */
  readonly keepEntries: number;
}

/**
 * One simulated machine: a Raft core, its durable storage (a MemoryStorage that only ever holds
 * what a Ready made durable) and its volatile state (the core, the KV store, client requests).
 * A crash throws the volatile half away.
 */
export class SimNode {
  readonly storage = new MemoryStorage();
  raft: RaftNode | null = null;
  kv = new KvStore();
  /** The Ready being persisted (the simulated fsync), lost if the node crashes first. */
  inflight: Ready | null = null;
  incarnation = 0;
  removed = false;
  readonly proposals = new Map<number, PendingProposal>();
  readonly reads = new Map<string, PendingRead>();
  private lastSnapshotIndex = 0;

  constructor(readonly opts: SimNodeOptions) {}

  get id(): NodeId {
    return this.opts.id;
  }

  get alive(): boolean {
    return this.raft !== null;
  }

  /** First start with an initial configuration (empty voters: a node that will be added later). */
  bootstrap(conf: ConfState): void {
    if (conf.voters.length > 0) {
      this.storage.bootstrap(conf);
      this.opts.checker.observePersist(this.id, this.storage.entries(1, this.storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER));
    }
    this.start();
  }

  /** (Re)start from durable state: the KV store is rebuilt from the snapshot, then the log. */
  start(): void {
    this.incarnation++;
    const snap = this.storage.snapshot();
    this.kv = KvStore.decode(snap.data);
    this.lastSnapshotIndex = snap.metadata.index;
    this.raft = new RaftNode({ ...this.opts.raftConfig, id: this.id, storage: this.storage, applied: snap.metadata.index }, this.opts.createRaft);
  }

  crash(): void {
    this.raft = null;
    this.inflight = null;
    this.proposals.clear();
    this.reads.clear();
    this.incarnation++;
  }

  mustRaft(): RaftNode {
    if (!this.raft) throw new Error(`node ${this.id} is down`);
    return this.raft;
  }

  core(): Raft {
    return this.mustRaft().raft;
  }

  /** Step 1 of handling a Ready: make it durable. */
  persist(rd: Ready): ClientOutcome[] {
    const checker = this.opts.checker;
    const out: ClientOutcome[] = [];
    if (rd.snapshot) {
      out.push(...this.forgetProposalsUpTo(rd.snapshot.metadata.index));
      this.storage.applySnapshot(rd.snapshot);
      checker.observeSnapshot(this.id, rd.snapshot.metadata.index, rd.snapshot.metadata.term);
      this.kv = KvStore.decode(rd.snapshot.data);
      this.lastSnapshotIndex = rd.snapshot.metadata.index;
    }
    const fresh = rd.entries.filter((e) => e.index >= this.storage.firstIndex());
    this.storage.append(fresh);
    checker.observePersist(this.id, fresh);
    if (rd.hardState) {
      const before = this.storage.initialState().hardState.commit;
      this.storage.setHardState(rd.hardState);
      checker.observeCommit(this.id, Math.max(before, this.storage.firstIndex() - 1), rd.hardState.commit, (i) => this.entryAt(i));
    }
    return out;
  }

  private forgetProposalsUpTo(index: number): ClientOutcome[] {
    const out: ClientOutcome[] = [];
    for (const p of [...this.proposals.values()]) {
      if (p.index > index) continue;
      this.proposals.delete(p.opId);
      out.push({ opId: p.opId, unknown: `covered by a snapshot at ${index}` });
    }
    return out;
  }

  /** Step 3: apply committed entries; returns what clients waiting on this node learn. */
  apply(rd: Ready): ClientOutcome[] {
    const out: ClientOutcome[] = [];
    for (const e of rd.committedEntries) {
      this.opts.checker.observeApply(this.id, e);
      out.push(...this.applyEntry(e));
    }
    return out;
  }

  private applyEntry(e: Entry): ClientOutcome[] {
    const out: ClientOutcome[] = [];
    const cmd = e.kind === 'normal' ? decodeCommand(e.data) : null;
    const result = cmd ? this.kv.apply(cmd.op) : null;
    for (const p of [...this.proposals.values()]) {
      if (p.index !== e.index) continue;
      this.proposals.delete(p.opId);
      if (cmd && result && cmd.opId === p.opId && e.term === p.term) out.push({ opId: p.opId, result });
      // Another entry was committed at this index: this proposal can never be applied.
      else out.push({ opId: p.opId, failed: `superseded at index ${e.index}` });
    }
    return out;
  }

  /** Reads whose read index is now applied. */
  serveReads(): ClientOutcome[] {
    const applied = this.mustRaft().status().applied;
    const out: ClientOutcome[] = [];
    for (const [ctx, r] of this.reads) {
      if (r.index === null || r.index > applied) continue;
      this.reads.delete(ctx);
      out.push({ opId: r.opId, result: { kind: 'get', value: this.kv.get(r.key) } });
    }
    return out;
  }

  /** Takes a snapshot and compacts when enough has been applied since the last one. */
  maybeSnapshot(): void {
    const st = this.mustRaft().status();
    if (this.inflight || st.applied - this.lastSnapshotIndex < this.opts.snapshotEvery) return;
    this.storage.createSnapshot(st.applied, st.confState, this.kv.encode());
    this.lastSnapshotIndex = st.applied;
    const compactTo = st.applied - this.opts.keepEntries;
    if (compactTo >= this.storage.firstIndex()) this.storage.compact(compactTo);
  }

  private entryAt(i: number): Entry | null {
    if (i < this.storage.firstIndex() || i > this.storage.lastIndex()) return null;
    return this.storage.entries(i, i + 1, Number.MAX_SAFE_INTEGER)[0] ?? null;
  }
}
