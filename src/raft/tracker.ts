import { invariant } from './errors.js';
import { Progress } from './progress.js';
import type { ConfChange, ConfState, NodeId } from './types.js';
import { quorumValue } from './util.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * Membership and, on a leader, every member's replication progress. Voters and learners are
 * kept sorted so that every iteration (and so every simulation) is deterministic.
 */
export class ProgressTracker {
  voters: NodeId[] = [];
  learners: NodeId[] = [];
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly maxInflight: number) {}

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  /** Replace membership (at start, or from a snapshot); progress restarts at `nextIndex`. */
  reset(cs: ConfState, nextIndex: number): void {
    const overlap = cs.voters.filter((v) => cs.learners.includes(v));
    invariant(overlap.length === 0, () => `nodes both voter and learner: ${overlap.join(',')}`);
    this.voters = [...cs.voters].sort();
    this.learners = [...cs.learners].sort();
    this.progress.clear();
    for (const id of this.members()) this.progress.set(id, new Progress(nextIndex, this.maxInflight, this.isLearner(id)));
  }

  members(): NodeId[] {
    return [...this.voters, ...this.learners];
  }

  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.learners.includes(id);
  }

  isMember(id: NodeId): boolean {
    return this.isVoter(id) || this.isLearner(id);
  }

  quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  mustGet(id: NodeId): Progress {
    const pr = this.progress.get(id);
    invariant(pr !== undefined, () => `no progress for member ${id}`);
    return pr;
  }

  /** The highest index a majority of voters has durably matched. */
  committed(): number {
    return quorumValue(this.voters.map((v) => this.progress.get(v)?.match ?? 0));
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  hasVoted(id: NodeId): boolean {
    return this.votes.has(id);
  }

  voteResult(): VoteResult {
    let granted = 0;
    let rejected = 0;
    for (const v of this.voters) {
      const vote = this.votes.get(v);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    const q = this.quorum();
    if (granted >= q) return 'won';
    if (rejected > this.voters.length - q) return 'lost';
    return 'pending';
  }

  /** Check-quorum: has a majority of voters been heard from recently? */
  quorumActive(self: NodeId): boolean {
    const active = this.voters.filter((v) => v === self || this.progress.get(v)?.recentActive === true).length;
    return active >= this.quorum();
  }

  addVoter(id: NodeId, nextIndex: number): void {
    this.learners = this.learners.filter((l) => l !== id);
    if (!this.voters.includes(id)) this.voters = [...this.voters, id].sort();
    const pr = this.progress.get(id);
    if (pr) pr.isLearner = false;
    else this.progress.set(id, new Progress(nextIndex, this.maxInflight, false));
  }

  addLearner(id: NodeId, nextIndex: number): void {
    invariant(!this.voters.includes(id), () => `cannot demote voter ${id} to learner`);
    if (!this.learners.includes(id)) this.learners = [...this.learners, id].sort();
    if (!this.progress.has(id)) this.progress.set(id, new Progress(nextIndex, this.maxInflight, true));
  }

  /** Applies an already validated membership change. */
  applyChange(change: ConfChange, nextIndex: number): void {
    if (change.type === 'addVoter') this.addVoter(change.node, nextIndex);
    else if (change.type === 'addLearner') this.addLearner(change.node, nextIndex);
    else this.remove(change.node);
  }

  remove(id: NodeId): void {
    this.voters = this.voters.filter((v) => v !== id);
    this.learners = this.learners.filter((l) => l !== id);
    this.progress.delete(id);
    this.votes.delete(id);
  }
}
