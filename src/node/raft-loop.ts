import {
  ProposalDroppedError,
  RaftNode,
  type ConfChange,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
  type Snapshot,
  type Status,
  type Storage,
} from '../raft/index.js';

/** What the loop needs of durable storage: the core's read side plus the writes a Ready asks for. */
export interface LoopStorage extends Storage {
  /** Makes the Ready's snapshot, entries and hard state durable (fsync'd if mustSync). */
  save(rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot' | 'mustSync'>): Promise<void>;
  createSnapshot(index: number, confState: Status['confState'], data: Uint8Array): Promise<unknown> | unknown;
  compact(index: number): Promise<void> | void;
}

/** The replicated state machine: applies committed entries in order. */
export interface StateMachine<R> {
  /** Applies committed entry `index`; `data` is empty for no-ops and membership changes. */
  apply(index: number, data: Uint8Array): Promise<R>;
  /** Serialized state as of the last applied index. */
  snapshot(): Promise<Uint8Array>;
  /** Replaces the state with a snapshot's (a follower that fell behind compaction). */
  restore(snapshot: Snapshot): Promise<void>;
}

export interface LoopTransport {
  send(messages: readonly Message[]): void;
}

export class ProposalOutcomeUnknownError extends Error {
  readonly code = 'OUTCOME_UNKNOWN';
  constructor(index: number) {
    super(`proposal at index ${index} was covered by a snapshot before this node applied it; check the state to learn whether it took effect`);
    this.name = 'ProposalOutcomeUnknownError';
  }
}

export class ProposalSupersededError extends Error {
  readonly code = 'SUPERSEDED';
  constructor(index: number) {
    super(`proposal at index ${index} lost its place in the log to a new leader's entry; it did not take effect and may be retried`);
    this.name = 'ProposalSupersededError';
  }
}

interface Waiter<R> {
  readonly term: number;
  resolve(result: R): void;
  reject(e: Error): void;
}

export interface RaftLoopInit<R> {
  readonly raft: Omit<RaftConfig, 'storage'>;
  readonly storage: LoopStorage;
  readonly stateMachine: StateMachine<R>;
  readonly transport: LoopTransport;
  /** Snapshot and compact once this many entries were applied since the last snapshot. */
  readonly snapshotEntries: number;
  /** Entries kept behind a snapshot so slightly lagging followers catch up from the log. */
  readonly keepEntries: number;
  readonly onError: (e: Error) => void;
}

/**
 * Drives the pure core: feeds it ticks and messages, and handles each Ready in order (persist,
 * then send, then apply, then advance). Proposals resolve with their apply result once applied
 * on this node.
 */
export class RaftLoop<R> {
  readonly node: RaftNode;
  private readonly waiters = new Map<number, Waiter<R>>();
  private readonly reads = new Map<string, { index: number | null; resolve: () => void; reject: (e: Error) => void }>();
  private processing: Promise<void> | null = null;
  private again = false;
  private lastSnapshotIndex: number;
  private readSeq = 0;
  private stopped = false;

  constructor(private readonly init: RaftLoopInit<R>) {
    this.node = new RaftNode({ ...init.raft, storage: init.storage });
    this.lastSnapshotIndex = init.storage.snapshot().metadata.index;
  }

  tick(): void {
    this.node.tick();
    this.kick();
  }

  step(m: Message): void {
    if (this.stopped) return;
    this.node.step(m);
    this.kick();
  }

  status(): Status {
    return this.node.status();
  }

  /** Proposes a command; resolves with its apply result, rejects if it cannot take effect. */
  propose(data: Uint8Array): Promise<R> {
    const { index, term } = this.node.propose(data);
    const p = new Promise<R>((resolve, reject) => this.waiters.set(index, { term, resolve, reject }));
    this.kick();
    return p;
  }

  proposeConfChange(change: ConfChange): Promise<R> {
    const { index, term } = this.node.proposeConfChange(change);
    const p = new Promise<R>((resolve, reject) => this.waiters.set(index, { term, resolve, reject }));
    this.kick();
    return p;
  }

  /** Resolves once this node's applied state is at least as new as the leader's commit (ReadIndex). */
  readBarrier(): Promise<void> {
    const context = `${this.init.raft.id}:${++this.readSeq}`;
    const p = new Promise<void>((resolve, reject) => this.reads.set(context, { index: null, resolve, reject }));
    try {
      this.node.readIndex(context);
    } catch (e) {
      this.reads.delete(context);
      return Promise.reject(e);
    }
    this.kick();
    return p;
  }

  transferLeadership(to: NodeId): void {
    this.node.transferLeadership(to);
    this.kick();
  }

  reportUnreachable(id: NodeId): void {
    this.node.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.node.reportSnapshot(id, ok);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    const stopped = new ProposalDroppedError('node is stopping', null);
    for (const w of this.waiters.values()) w.reject(stopped);
    for (const r of this.reads.values()) r.reject(stopped);
    this.waiters.clear();
    this.reads.clear();
  }

  /** Resolves when every Ready produced so far has been handled. */
  async idle(): Promise<void> {
    while (this.processing) await this.processing;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.processing) {
      this.again = true;
      return;
    }
    this.processing = this.drain().finally(() => {
      this.processing = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.node.hasReady()) await this.handle(this.node.ready());
      if (!this.stopped) await this.maybeSnapshot();
    } catch (e) {
      this.stopped = true;
      this.init.onError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private async handle(rd: Ready): Promise<void> {
    await this.init.storage.save(rd);
    this.init.transport.send(rd.messages);
    if (rd.snapshot) await this.installSnapshot(rd.snapshot);
    for (const e of rd.committedEntries) await this.applyEntry(e);
    for (const rs of rd.readStates) this.readState(rs.context, rs.index);
    this.node.advance(rd);
    this.serveReads();
  }

  private async installSnapshot(snap: Snapshot): Promise<void> {
    await this.init.stateMachine.restore(snap);
    this.lastSnapshotIndex = snap.metadata.index;
    for (const [index, w] of this.waiters) {
      if (index > snap.metadata.index) continue;
      this.waiters.delete(index);
      w.reject(new ProposalOutcomeUnknownError(index));
    }
  }

  /** Every committed entry reaches the state machine (no-ops and membership changes as empty data), so its applied index is Raft's. */
  private async applyEntry(e: Entry): Promise<void> {
    const waiter = this.waiters.get(e.index);
    this.waiters.delete(e.index);
    const result = await this.init.stateMachine.apply(e.index, e.kind === 'normal' ? e.data : new Uint8Array(0));
    if (!waiter) return;
    if (waiter.term === e.term) waiter.resolve(result);
    else waiter.reject(new ProposalSupersededError(e.index));
  }

  private readState(context: string, index: number): void {
    const r = this.reads.get(context);
    if (!r) return;
    if (index < 0) {
      this.reads.delete(context);
      r.reject(new ProposalDroppedError('the leader could not confirm the read (it lost leadership); retry', null));
    } else r.index = index;
  }

  private serveReads(): void {
    const applied = this.node.status().applied;
    for (const [ctx, r] of this.reads) {
      if (r.index === null || r.index > applied) continue;
      this.reads.delete(ctx);
      r.resolve();
    }
  }

  private async maybeSnapshot(): Promise<void> {
    const st = this.node.status();
    if (st.applied - this.lastSnapshotIndex < this.init.snapshotEntries) return;
    const data = await this.init.stateMachine.snapshot();
    await this.init.storage.createSnapshot(st.applied, st.confState, data);
    this.lastSnapshotIndex = st.applied;
    const compactTo = st.applied - this.init.keepEntries;
    if (compactTo >= this.init.storage.firstIndex()) await this.init.storage.compact(compactTo);
  }
}
