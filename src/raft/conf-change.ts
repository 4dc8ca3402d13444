import { invariant } from './errors.js';
import type { ConfChange, ConfState, Entry } from './types.js';

/*
 * Membership changes: one server at a time, taking effect when the change is applied.
 *
 * Why not joint consensus: a LAN cluster grows and shrinks one desktop at a time, and any two
 * majorities of configurations that differ by one server overlap (Ongaro's thesis §4.1), so
 * single-server changes are safe without a joint phase. They also keep every quorum computation
 * over one voter set, which keeps the leader code and the simulator's checks simple.
 *
 * Why it is safe here, given two rules enforced by the core:
 * 1. At most one change is in flight: a change is proposed only once the previous one is applied
 *    (pendingConfIndex <= applied), and a configuration takes effect only when its entry is
 *    applied, i.e. committed. So at any time the live configurations are at most the committed
 *    one and the one being committed, which differ by one server.
 * 2. A new leader proposes no change until it has applied its whole log, including the no-op of
 *    its own term (pendingConfIndex is set to its last index on election). This closes the bug
 *    Ongaro reported in 2015, where a leader of a new term proposed a change while an
 *    uncommitted change from an earlier term could still be committed by a disjoint majority.
 * Nodes also refuse to campaign while a committed change is not yet applied, so no node counts
 * votes in a configuration older than the one the cluster has committed.
 *
 * Learners: added with addLearner (they replicate but neither vote nor count toward commit),
 * promoted with addVoter once caught up. Demoting a voter straight to learner is refused:
 * remove it, then add it back as a learner.
 */

/** Returns why the change cannot be applied to `cs`, or null if it can. */
export function validateConfChange(cs: ConfState, change: ConfChange): string | null {
  const isVoter = cs.voters.includes(change.node);
  const isLearner = cs.learners.includes(change.node);
  switch (change.type) {
    case 'addVoter':
      return isVoter ? `${change.node} is already a voter` : null;
    case 'addLearner':
      if (isVoter) return `${change.node} is a voter; remove it before adding it back as a learner`;
      return isLearner ? `${change.node} is already a learner` : null;
    case 'removeNode':
      if (!isVoter && !isLearner) return `${change.node} is not a member`;
      if (isVoter && cs.voters.length === 1) return `${change.node} is the last voter; a cluster cannot remove its last voter`;
      return null;
  }
}

/**
 * The log a new cluster starts from: one committed membership change per initial member, at
 * term 1 (as etcd's Bootstrap does). Every member starts from the same entries; a node that joins
 * later receives them by replication (or a snapshot that covers them), so its view of the
 * membership is always derived from the log.
 */
export function bootstrapEntries(cs: ConfState): Entry[] {
  invariant(cs.voters.length > 0, 'a cluster needs at least one voter to bootstrap');
  const changes: ConfChange[] = [
    ...[...cs.voters].sort().map((node) => ({ type: 'addVoter' as const, node })),
    ...[...cs.learners].sort().map((node) => ({ type: 'addLearner' as const, node })),
  ];
  return changes.map((change, i) => ({ kind: 'confChange', term: 1, index: i + 1, change }));
}
