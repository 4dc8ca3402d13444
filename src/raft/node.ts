import type { RaftConfig } from './config.js';
import { invariant } from './errors.js';
import type { ProgressState } from './progress.js';
import { Raft } from './raft.js';
import type { ConfChange, ConfState, HardState, Message, NodeId, Ready, Role, SoftState } from './types.js';
import { hardStateEqual, isEmptyHardState } from './types.js';

export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly inflight: number;
  readonly isLearner: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly role: Role;
  readonly lead: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId | null;
  /** Replication progress of every member, on the leader only. */
  readonly progress: Readonly<Record<NodeId, PeerStatus>> | null;
}

/**
 * The core's public face, in the style of etcd's RawNode: inputs are method calls; outputs are
 * collected into a Ready that the caller handles (persist, send, apply) and then acknowledges
 * with advance(). Between ready() and advance() the caller may keep stepping messages and ticks.
 */
export class RaftNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private inFlight: Ready | null = null;

  /** `create` lets tests substitute a deliberately broken core; production uses the default. */
  constructor(config: RaftConfig, create: (c: RaftConfig) => Raft = (c) => new Raft(c)) {
    this.raft = create(config);
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Campaign now, with pre-vote if configured (as an expired election timer would). */
  campaign(): void {
    this.raft.hup('preElection');
  }

  step(m: Message): void {
    this.raft.step(m);
  }

  propose(data: Uint8Array): { index: number; term: number } {
    return this.raft.propose(data);
  }

  proposeConfChange(change: ConfChange): { index: number; term: number } {
    return this.raft.proposeConfChange(change);
  }

  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to);
  }

  readIndex(context: string): void {
    this.raft.readIndex(context);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  hasReady(): boolean {
    const r = this.raft;
    return (
      this.softChanged() ||
      this.hardChanged() ||
      r.log.unstable.snapshot !== null ||
      r.log.unstable.entries.length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  ready(): Ready {
    invariant(this.inFlight === null, 'ready() called again before advance() of the previous Ready');
    const r = this.raft;
    r.flushProposals();
    const hs = this.hardState();
    const hardChanged = this.hardChanged();
    const rd: Ready = {
      softState: this.softChanged() ? this.softState() : null,
      hardState: hardChanged ? hs : null,
      entries: [...r.log.unstable.entries],
      snapshot: r.log.unstable.snapshot,
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: r.log.unstable.entries.length > 0 || hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    if (rd.softState) this.prevSoft = rd.softState;
    if (rd.hardState) this.prevHard = rd.hardState;
    this.inFlight = rd;
    return rd;
  }

  /** The caller has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    invariant(this.inFlight === rd, 'advance() must be given the Ready last returned by ready()');
    this.inFlight = null;
    const r = this.raft;
    if (rd.snapshot) {
      r.log.unstable.stableSnapTo(rd.snapshot.metadata.index);
      r.log.applied = Math.max(r.log.applied, rd.snapshot.metadata.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last) {
      r.log.unstable.stableTo(last.index, last.term);
      if (r.log.matchTerm(last.index, last.term)) r.selfPersisted(last.index);
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) {
      r.log.appliedTo(lastApplied.index);
      for (const e of rd.committedEntries) if (e.kind === 'confChange') r.applyConfChange(e.change);
      r.reduceUncommitted(rd.committedEntries);
    }
  }

  status(): Status {
    const r = this.raft;
    const leader = r.role === 'leader';
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      role: r.role,
      lead: r.lead,
      commit: r.log.committed,
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
      confState: r.tracker.confState(),
      leadTransferee: r.leadTransferee,
      progress: leader ? this.progressStatus() : null,
    };
  }

  private progressStatus(): Record<NodeId, PeerStatus> {
    const out: Record<NodeId, PeerStatus> = {};
    for (const [id, pr] of this.raft.tracker.progress) {
      out[id] = { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive, inflight: pr.inflights.count(), isLearner: pr.isLearner };
    }
    return out;
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  private softChanged(): boolean {
    return this.prevSoft.lead !== this.raft.lead || this.prevSoft.role !== this.raft.role;
  }

  private hardChanged(): boolean {
    const hs = this.hardState();
    return !isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHard);
  }
}
