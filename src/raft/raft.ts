import { resolveConfig, type RaftConfig, type ResolvedConfig } from './config.js';
import { validateConfChange } from './conf-change.js';
import { ProposalDroppedError, invariant } from './errors.js';
import { RaftLog } from './log.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  Entry,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  Message,
  NodeId,
  ReadIndexRequest,
  ReadIndexResponse,
  ReadState,
  Role,
  Snapshot,
  VoteRequest,
  VoteResponse,
} from './types.js';
import { entrySize } from './types.js';

type CampaignKind = 'preElection' | 'election' | 'transfer';

/**
 * The Raft state machine (Ongaro & Ousterhout, and the thesis for pre-vote, check-quorum,
 * leadership transfer, ReadIndex and single-server membership changes). Deterministic: its only
 * inputs are method calls, messages, ticks and the injected randomInt. The caller drains what it
 * produces through RaftNode's Ready.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | null = null;
  role: Role = 'follower';
  lead: NodeId | null = null;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Set while handing leadership to this node; proposals are refused meanwhile. */
  leadTransferee: NodeId | null = null;
  /** Index of the latest membership change appended; a new one waits until it is applied. */
  pendingConfIndex = 0;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  protected readonly cfg: ResolvedConfig;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly readOnly: ReadOnly;
  /** Reads asked before this leader committed an entry of its term: answered once it has. */
  private pendingReadsBeforeCommit: { context: string; from: NodeId }[] = [];
  private uncommittedBytes = 0;
  private proposalsToBroadcast = false;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage, this.cfg.maxApplyBytes);
    this.tracker = new ProgressTracker(this.cfg.maxInflightMsgs);
    this.readOnly = new ReadOnly(this.cfg.maxPendingReads);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.tracker.reset(confState, this.log.lastIndex() + 1);
    if (hardState.term > 0 || hardState.commit > 0) {
      invariant(hardState.commit >= this.log.committed && hardState.commit <= this.log.lastIndex(), () => `stored commit ${hardState.commit} is outside the log [${this.log.committed}, ${this.log.lastIndex()}]: the log is corrupt or was truncated`);
      this.term = hardState.term;
      this.vote = hardState.vote;
      this.log.commitTo(hardState.commit);
    }
    if (this.cfg.applied > 0) {
      this.log.appliedTo(this.cfg.applied);
      this.replayAppliedConfChanges();
    }
    this.becomeFollower(this.term, null);
  }

  /**
   * On a restart with `applied` set, the entries up to it are not handed out again, so the
   * membership changes among them must be re-applied here: storage's confState is only the
   * snapshot's.
   */
  private replayAppliedConfChanges(): void {
    const lo = this.log.firstIndex();
    if (this.log.applied < lo) return;
    for (const e of this.log.slice(lo, this.log.applied + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.kind === 'confChange' && validateConfChange(this.tracker.confState(), e.change) === null) {
        this.tracker.applyChange(e.change, this.log.lastIndex() + 1);
      }
    }
  }

  // ---- Queries ------------------------------------------------------------------------------

  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  private inLease(): boolean {
    return this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.cfg.electionTick;
  }

  // ---- Role transitions ---------------------------------------------------------------------

  becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become pre-candidate');
    // Pre-vote changes neither term nor vote: a node that cannot win leaves no trace.
    this.tracker.resetVotes();
    this.role = 'preCandidate';
    this.lead = null;
    this.randomizedElectionTimeout = this.cfg.electionTick + this.cfg.randomInt(this.cfg.electionTick);
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `only a candidate can become leader, not a ${this.role}`);
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    this.tracker.mustGet(this.id).becomeReplicate();
    this.appendLeaderNoop();
    // Conservatively assume the tail may hold a membership change: none is proposed until this
    // leader has applied its whole log including its no-op, i.e. committed an entry of its term
    // (this closes the single-server change bug, see conf-change.ts).
    this.pendingConfIndex = this.log.lastIndex();
    this.cfg.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  /**
   * The no-op of a new term: committing it commits every earlier entry (§5.4.2, Figure 8 and
   * §8), and until it commits the leader serves no ReadIndex.
   */
  protected appendLeaderNoop(): void {
    this.appendEntries([{ kind: 'normal', term: this.term, index: 0, data: new Uint8Array(0) }], true);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      invariant(term > this.term, () => `term moves backwards from ${this.term} to ${term}`);
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTick + this.cfg.randomInt(this.cfg.electionTick);
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    this.failPendingReads();
    this.uncommittedBytes = 0;
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.tracker.progress) {
      pr.next = next;
      pr.match = id === this.id ? this.log.stableLastIndex() : 0;
      pr.becomeProbe();
      pr.next = next;
      pr.recentActive = id === this.id;
    }
  }

  private failPendingReads(): void {
    const refused = [...this.readOnly.clear(), ...this.pendingReadsBeforeCommit];
    this.pendingReadsBeforeCommit = [];
    for (const r of refused) this.answerRead(r.from, r.context, -1);
  }

  // ---- Ticks --------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup('preElection');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    for (const pr of this.tracker.progress.values()) pr.stateTicks++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.checkQuorumActive()) return;
      if (this.leadTransferee !== null) {
        this.cfg.logger.warn(`${this.id} abandons leadership transfer to ${this.leadTransferee}: not done within an election timeout`);
        this.abortLeaderTransfer();
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.retryLostSnapshots();
      this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  /** Check-quorum: step down if a majority has not been heard from in an election timeout. */
  private checkQuorumActive(): boolean {
    const active = this.tracker.quorumActive(this.id);
    for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id;
    if (!active) {
      this.cfg.logger.warn(`${this.id} steps down at term ${this.term}: no quorum heard from`);
      this.becomeFollower(this.term, null);
    }
    return active;
  }

  /** A snapshot unacknowledged for two election timeouts was lost: probe again. */
  private retryLostSnapshots(): void {
    for (const pr of this.tracker.progress.values()) {
      if (pr.state === 'snapshot' && pr.stateTicks >= 2 * this.cfg.electionTick) pr.becomeProbe();
    }
  }

  // ---- Elections ----------------------------------------------------------------------------

  /** Start an election now (also what an expired election timer does). */
  hup(kind: 'preElection' | 'election'): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChange()) {
      this.cfg.logger.warn(`${this.id} cannot campaign at term ${this.term}: a committed membership change is not applied yet`);
      return;
    }
    this.campaign(kind === 'preElection' && !this.cfg.preVote ? 'election' : kind);
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const ents = this.log.slice(Math.max(this.log.applied + 1, this.log.firstIndex()), this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.kind === 'confChange');
  }

  private campaign(kind: CampaignKind): void {
    let voteTerm: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter cluster wins at once.
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      const req: VoteRequest = {
        type: kind === 'preElection' ? 'preVote' : 'vote',
        from: this.id,
        to: id,
        term: voteTerm,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer: kind === 'transfer',
      };
      this.send(req);
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.tracker.recordVote(from, granted);
    return this.tracker.voteResult();
  }

  /**
   * Raft §5.2/§5.4.1: grant if we have not voted for someone else in this term (a pre-vote for a
   * future term is always open) and the candidate's log is at least as up to date as ours.
   */
  protected canGrantVote(m: VoteRequest): boolean {
    const free = this.vote === m.from || (this.vote === null && this.lead === null) || (m.type === 'preVote' && m.term > this.term);
    return free && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  }

  private handleVoteRequest(m: VoteRequest): void {
    const respType = m.type === 'preVote' ? 'preVoteResp' : 'voteResp';
    if (this.canGrantVote(m)) {
      // A granted pre-vote carries the candidate's future term so it counts for that campaign.
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expected = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    if (m.type !== expected) return;
    const result = this.poll(m.from, !m.reject);
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign('election');
      else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null);
    }
  }

  // ---- Message entry point ------------------------------------------------------------------

  step(m: Message): void {
    invariant(m.to === this.id, () => `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.handleStaleTerm(m);
      return;
    }
    switch (m.type) {
      case 'preVote':
      case 'vote':
        return this.handleVoteRequest(m);
      case 'preVoteResp':
      case 'voteResp':
        if (this.role === 'preCandidate' || this.role === 'candidate') this.handleVoteResponse(m);
        return;
      case 'app':
      case 'heartbeat':
      case 'snap':
        return this.stepFromLeader(m);
      case 'appResp':
        if (this.role === 'leader') this.handleAppendResponse(m);
        return;
      case 'heartbeatResp':
        if (this.role === 'leader') this.handleHeartbeatResponse(m);
        return;
      case 'timeoutNow':
        return this.handleTimeoutNow(m);
      case 'readIndex':
        return this.handleReadIndexRequest(m);
      case 'readIndexResp':
        return this.handleReadIndexResponse(m);
    }
  }

  /** Returns false if the message must be ignored. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'preVote' || m.type === 'vote') {
      // Leader lease: while we hear from a live leader we do not help depose it, unless that
      // leader itself asked for the transfer.
      if (!m.transfer && this.inLease()) return false;
      if (m.type === 'preVote') return true; // Pre-votes never change our term.
      // Adopt the term, but keep our election timer running unless we grant the vote (§5.2):
      // otherwise a node that cannot win keeps resetting the timer of the one that can.
      const elapsed = this.electionElapsed;
      this.becomeFollower(m.term, null);
      this.electionElapsed = elapsed;
      return true;
    }
    if (m.type === 'preVoteResp' && !m.reject) return true; // Our own future term, echoed back.
    const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  private handleStaleTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'app' || m.type === 'heartbeat')) {
      // A leader cut off by a partition may never hear a higher term otherwise (we ignore its
      // votes, and with pre-vote we never raise terms on our own): tell it so it steps down.
      this.send(this.appResponse(m.from, this.log.lastIndex(), false));
    } else if (m.type === 'preVote' || m.type === 'vote') {
      // Reject with our term (§5.1) so the candidate catches up. Staying silent can deadlock: a
      // stale voter that does not know the candidate is a member never sends it anything else.
      this.send({ type: m.type === 'preVote' ? 'preVoteResp' : 'voteResp', from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepFromLeader(m: AppendRequest | Heartbeat | InstallSnapshot): void {
    if (this.role !== 'follower') {
      invariant(this.role !== 'leader', () => `two leaders in term ${this.term}: ${this.id} and ${m.from}`);
      this.becomeFollower(this.term, m.from);
    }
    this.electionElapsed = 0;
    this.lead = m.from;
    if (m.type === 'app') this.handleAppend(m);
    else if (m.type === 'heartbeat') this.handleHeartbeat(m);
    else this.handleSnapshot(m);
  }

  // ---- Follower side of replication ---------------------------------------------------------

  private appResponse(to: NodeId, index: number, reject: boolean, rejectHint = 0, logTerm = 0): AppendResponse {
    return { type: 'appResp', from: this.id, to, term: this.term, index, reject, rejectHint, logTerm };
  }

  private handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.log.committed) {
      this.send(this.appResponse(m.from, this.log.committed, false));
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (lastNew !== null) {
      this.send(this.appResponse(m.from, lastNew, false));
      return;
    }
    // Fast backtracking: point the leader at the last index whose term is <= its prevTerm, so
    // it skips whole terms of our divergent log instead of one entry per round trip.
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    this.send(this.appResponse(m.from, m.prevIndex, true, hint, this.log.term(hint) ?? 0));
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.log.commitTo(m.commit);
    this.send({ type: 'heartbeatResp', from: this.id, to: m.from, term: this.term, context: m.context });
  }

  private handleSnapshot(m: InstallSnapshot): void {
    const { index } = m.snapshot.metadata;
    if (this.restore(m.snapshot)) {
      this.cfg.logger.info(`${this.id} installed snapshot at index ${index} from ${m.from}`);
      this.send(this.appResponse(m.from, this.log.lastIndex(), false));
    } else {
      this.send(this.appResponse(m.from, this.log.committed, false));
    }
  }

  /** Adopt a snapshot unless we already have everything it holds. */
  private restore(snap: Snapshot): boolean {
    const { index, term, confState } = snap.metadata;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We hold the snapshot's last entry: our log up to it is the leader's, just commit.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snap);
    this.tracker.reset(confState, this.log.lastIndex() + 1);
    this.pendingConfIndex = 0;
    return true;
  }

  private handleTimeoutNow(m: Message): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChange()) {
      this.cfg.logger.warn(`${this.id} ignores TimeoutNow from ${m.from}: a committed membership change is not applied yet`);
      return;
    }
    this.cfg.logger.info(`${this.id} campaigns at once: leadership transfer from ${m.from}`);
    this.campaign('transfer');
  }

  // ---- Leader side of replication -----------------------------------------------------------

  /** Appends entries to the leader's log (assigning index and term) and returns the first index. */
  private appendEntries(ents: Entry[], force = false): number | null {
    const bytes = ents.reduce((s, e) => s + entrySize(e), 0);
    if (!force && this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) return null;
    this.uncommittedBytes += bytes;
    const first = this.log.lastIndex() + 1;
    const stamped = ents.map((e, i) => ({ ...e, term: this.term, index: first + i }));
    this.log.append(stamped);
    return first;
  }

  bcastAppend(): void {
    for (const id of this.tracker.members()) {
      if (id === this.id || !this.maybeSendAppend(id, true)) continue;
      // Pipelining: fill the follower's inflight window with whatever else is ready to go.
      while (this.maybeSendAppend(id, false)) {
        /* send the next batch */
      }
    }
  }

  private bcastHeartbeat(context: string | null): void {
    for (const id of this.tracker.members()) {
      if (id === this.id) continue;
      // Never tell a follower to commit beyond what it is known to hold.
      const commit = Math.min(this.tracker.mustGet(id).match, this.log.committed);
      this.send({ type: 'heartbeat', from: this.id, to: id, term: this.term, commit, context });
    }
  }

  /**
   * Sends the follower what it lacks (entries, or the snapshot if they are compacted). Returns
   * whether something was sent. With sendIfEmpty, an empty append still goes out (it carries the
   * commit index and probes where the follower's log ends).
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.mustGet(to);
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const ents = this.log.entriesFrom(pr.next, this.cfg.maxSizePerMsg);
    if (prevTerm === null || ents === null) return this.sendSnapshot(to);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'app', from: this.id, to, term: this.term, prevIndex, prevTerm, entries: ents, commit: this.log.committed });
    const last = ents[ents.length - 1];
    if (pr.state === 'replicate' && last !== undefined) {
      pr.optimisticUpdate(last.index);
      pr.inflights.add(last.index);
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshot(to: NodeId): boolean {
    const pr = this.tracker.mustGet(to);
    if (!pr.recentActive) return false; // Do not ship a snapshot to a node that seems down.
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'SNAPSHOT_TEMPORARILY_UNAVAILABLE') return false;
      throw e;
    }
    invariant(snapshot.metadata.index > 0, () => `the log before ${this.log.firstIndex()} is compacted but there is no snapshot`);
    pr.becomeSnapshot(snapshot.metadata.index);
    this.cfg.logger.info(`${this.id} sends snapshot at ${snapshot.metadata.index} to ${to}`);
    this.send({ type: 'snap', from: this.id, to, term: this.term, snapshot });
    return true;
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.tracker.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.reject) {
      let hint = m.rejectHint;
      if (m.logTerm > 0) hint = this.log.findConflictByTerm(m.rejectHint, m.logTerm);
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

    if (this.commitAndBroadcast()) {
      /* the broadcast carried the new commit index */
    } else if (wasPaused) this.maybeSendAppend(m.from, true);
    // Pipelining: keep the window full while there is more to send.
    while (this.maybeSendAppend(m.from, false)) {
      /* send the next batch */
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.tracker.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // A full window after a heartbeat round trip means messages were lost: free a slot.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.maybeSendAppend(m.from, true);
    if (m.context !== null) this.ackRead(m.from, m.context);
  }

  /** Commit the highest index a quorum matches, if it is of this term (§5.4.2). */
  protected maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  /** Advances commit if a quorum allows; tells everyone and releases waiting reads if it moved. */
  private commitAndBroadcast(): boolean {
    if (!this.maybeCommit()) return false;
    this.releaseReadsAfterCommit();
    this.bcastAppend();
    return true;
  }

  /** The leader's own entries became durable up to `index`: count its own vote for them. */
  selfPersisted(index: number): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.get(this.id);
    if (!pr || !pr.maybeUpdate(index)) return;
    this.commitAndBroadcast();
  }

  // ---- Proposals ----------------------------------------------------------------------------

  /** Appends a client payload; returns its index and term. Throws ProposalDroppedError. */
  propose(data: Uint8Array): { index: number; term: number } {
    this.assertCanPropose();
    return this.appendProposal({ kind: 'normal', term: 0, index: 0, data });
  }

  proposeConfChange(change: ConfChange): { index: number; term: number } {
    this.assertCanPropose();
    if (this.pendingConfIndex > this.log.applied) {
      throw new ProposalDroppedError(`membership change at index ${this.pendingConfIndex} is not applied yet; retry after it`, this.lead);
    }
    const problem = validateConfChange(this.tracker.confState(), change);
    if (problem !== null) throw new ProposalDroppedError(problem, this.lead);
    const at = this.appendProposal({ kind: 'confChange', term: 0, index: 0, change });
    this.pendingConfIndex = at.index;
    return at;
  }

  private assertCanPropose(): void {
    if (this.role !== 'leader') throw new ProposalDroppedError(`${this.id} is not the leader`, this.lead);
    if (this.leadTransferee !== null) throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`, this.lead);
  }

  private appendProposal(e: Entry): { index: number; term: number } {
    const index = this.appendEntries([e]);
    if (index === null) throw new ProposalDroppedError(`too many uncommitted bytes (limit ${this.cfg.maxUncommittedBytes})`, this.lead);
    // Batching: the appends go out when the next Ready is taken, so every proposal made until
    // then shares one message per follower.
    this.proposalsToBroadcast = true;
    return { index, term: this.term };
  }

  /** Sends the appends for proposals made since the last Ready (see appendProposal). */
  flushProposals(): void {
    if (!this.proposalsToBroadcast) return;
    this.proposalsToBroadcast = false;
    if (this.role === 'leader') this.bcastAppend();
  }

  /** Called when committed entries were applied: frees their bytes from the uncommitted budget. */
  reduceUncommitted(applied: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    const bytes = applied.reduce((s, e) => s + entrySize(e), 0);
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  // ---- Membership ---------------------------------------------------------------------------

  /** Applies a committed membership change (called as the entry is applied). */
  applyConfChange(change: ConfChange): void {
    const problem = validateConfChange(this.tracker.confState(), change);
    if (problem !== null) {
      // Every node applies the same log, so every node skips the same invalid change.
      this.cfg.logger.warn(`${this.id} skips invalid membership change: ${problem}`);
      return;
    }
    if (change.type === 'removeNode') this.removeNode(change.node);
    else this.tracker.applyChange(change, this.log.lastIndex() + 1);
    if (this.role !== 'leader') return;
    // The quorum changed: commit may move, and new members need appends.
    if (!this.commitAndBroadcast()) this.bcastAppend();
  }

  private removeNode(node: NodeId): void {
    if (node === this.leadTransferee) this.abortLeaderTransfer();
    const wasLeader = this.role === 'leader' && node === this.id;
    if (wasLeader) {
      // Hand off at once rather than leave the cluster leaderless for an election timeout.
      this.bcastAppend();
      const successor = this.bestSuccessor();
      if (successor !== null) this.sendTimeoutNow(successor);
    }
    this.tracker.remove(node);
    if (node === this.id) {
      this.cfg.logger.info(`${this.id} was removed from the cluster`);
      if (this.role !== 'follower') this.becomeFollower(this.term, null);
    }
  }

  private bestSuccessor(): NodeId | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.tracker.voters) {
      const match = this.tracker.mustGet(id).match;
      if (id !== this.id && match > bestMatch) [best, bestMatch] = [id, match];
    }
    return best !== null && bestMatch === this.log.lastIndex() ? best : null;
  }

  // ---- Leadership transfer (thesis §3.10) ---------------------------------------------------

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') throw new ProposalDroppedError(`${this.id} is not the leader`, this.lead);
    if (!this.tracker.isVoter(to)) throw new ProposalDroppedError(`${to} is not a voter`, this.lead);
    if (to === this.id || to === this.leadTransferee) return;
    this.abortLeaderTransfer();
    this.leadTransferee = to;
    this.electionElapsed = 0; // The transfer must finish within one election timeout.
    if (this.tracker.mustGet(to).match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.maybeSendAppend(to, true);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.term });
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = null;
  }

  // ---- ReadIndex (thesis §6.4) --------------------------------------------------------------

  /** Ask for a linearizable read point; the answer arrives as a ReadState with this context. */
  readIndex(context: string): void {
    if (this.role === 'leader') {
      this.leaderRead(context, this.id);
      return;
    }
    if (this.lead === null) throw new ProposalDroppedError(`${this.id} knows no leader to confirm a read`, null);
    this.send({ type: 'readIndex', from: this.id, to: this.lead, term: this.term, context });
  }

  private handleReadIndexRequest(m: ReadIndexRequest): void {
    if (this.role !== 'leader') {
      this.answerRead(m.from, m.context, -1);
      return;
    }
    this.leaderRead(m.context, m.from);
  }

  private leaderRead(context: string, from: NodeId): void {
    if (this.readOnly.full() || this.readOnly.has(context)) {
      this.answerRead(from, context, -1);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // Until an entry of this term commits, our commit index may be behind the cluster's.
      this.pendingReadsBeforeCommit.push({ context, from });
      return;
    }
    if (this.tracker.voters.length === 1 && this.tracker.isVoter(this.id)) {
      this.answerRead(from, context, this.log.committed);
      return;
    }
    this.readOnly.add(this.log.committed, context, from);
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat(context);
  }

  /** Called once the leader's first entry of its term commits. */
  private releaseReadsAfterCommit(): void {
    if (this.role !== 'leader' || this.pendingReadsBeforeCommit.length === 0) return;
    if (this.log.term(this.log.committed) !== this.term) return;
    const waiting = this.pendingReadsBeforeCommit;
    this.pendingReadsBeforeCommit = [];
    for (const r of waiting) this.leaderRead(r.context, r.from);
  }

  private ackRead(from: NodeId, context: string): void {
    if (!this.tracker.isVoter(from)) return;
    const acks = this.readOnly.recvAck(from, context);
    if (acks < this.tracker.quorum()) return;
    for (const r of this.readOnly.advance(context)) this.answerRead(r.from, r.context, r.index);
  }

  private answerRead(to: NodeId, context: string, index: number): void {
    if (to === this.id) this.readStates.push({ index, context });
    else this.send({ type: 'readIndexResp', from: this.id, to, term: this.term, context, index });
  }

  private handleReadIndexResponse(m: ReadIndexResponse): void {
    this.readStates.push({ index: m.index, context: m.context });
  }

  // ---- Transport hooks ----------------------------------------------------------------------

  /** The transport could not reach `id`: stop streaming optimistically and probe instead. */
  reportUnreachable(id: NodeId): void {
    const pr = this.tracker.get(id);
    if (this.role === 'leader' && pr && pr.state === 'replicate') pr.becomeProbe();
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.tracker.get(id);
    if (this.role !== 'leader' || !pr || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's answer (or the next heartbeat) before probing again.
    pr.probeSent = true;
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }
}

export type { ReadState };
