import { Raft, type RaftConfig, type VoteRequest } from '../raft/index.js';

/**
 * Deliberately broken cores. They exist only to prove that the simulator's checkers can fail:
 * a test runs the simulator against each and asserts that a violation is found, with a seed
 * that replays it.
 */

/**
 * Commits an entry of an earlier term by counting replicas: the bug of the paper's Figure 8.
 * As in that figure, a new leader does not first append a no-op of its own term: with the
 * no-op the bug is exposed only within one round trip after each election, which faults hit
 * about once per thousand seeds; without it the window stays open until the next write.
 */
class CommitsPreviousTermByCounting extends Raft {
  protected override maybeCommit(): boolean {
    const quorumMatch = this.tracker.committed();
    if (quorumMatch <= this.log.committed || quorumMatch > this.log.lastIndex()) return false;
    this.log.commitTo(quorumMatch);
    return true;
  }

  protected override appendLeaderNoop(): void {}
}

/** Grants every up-to-date candidate its vote, even after voting for another in the same term. */
class GrantsTwoVotesInATerm extends Raft {
  protected override canGrantVote(m: VoteRequest): boolean {
    return this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  }
}

export const variants = {
  correct: (c: RaftConfig): Raft => new Raft(c),
  'commit-previous-term': (c: RaftConfig): Raft => new CommitsPreviousTermByCounting(c),
  'double-vote': (c: RaftConfig): Raft => new GrantsTwoVotesInATerm(c),
} as const;

export type VariantName = keyof typeof variants;

export function isVariantName(name: string): name is VariantName {
  return Object.hasOwn(variants, name);
}
