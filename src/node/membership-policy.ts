import type { ConfState, NodeId, PeerStatus } from '../raft/index.js';
import type { MemberRole } from '../store/index.js';

/**
 * What the leader should change about the membership next, if anything: a pure function of what
 * it sees, so every rule is tested without a cluster. The leader applies one step at a time
 * (Raft allows one membership change in flight) and asks again.
 *
 * The rules, in order:
 * 1. Every member has its address in the replicated address book (nodes restarted or joined
 *    later learn addresses from it), and the book follows the Raft membership's roles.
 * 2. A member marked removed (larder leave / larder remove) leaves the Raft membership.
 * 3. A caught-up learner becomes a voter while there are fewer than maxVoters voters.
 * 4. A voter silent for longer than the grace period gives its seat to a caught-up learner: it is
 *    removed and added back as a learner, so it returns as a replica. Without such a learner
 *    nothing happens: removing a voter alone would only shrink the quorum's margin.
 */

export interface MembershipView {
  readonly self: NodeId;
  readonly confState: ConfState;
  /** The leader's progress for every member. */
  readonly progress: Readonly<Record<NodeId, PeerStatus>>;
  readonly lastIndex: number;
  /** Milliseconds since the leader last heard from a member, or since it became leader if not since. */
  readonly silentMs: (id: NodeId) => number;
  /** The replicated address book. */
  readonly book: ReadonlyMap<NodeId, { readonly address: string; readonly role: MemberRole }>;
  /** Addresses this node knows (from config, joins and the book), for members missing from the book. */
  readonly knownAddress: (id: NodeId) => string | null;
  readonly maxVoters: number;
  readonly voterGraceMs: number;
  /** A learner within this many entries of the leader's last index, and heard from lately, is caught up. */
  readonly catchUpEntries: number;
  readonly liveWithinMs: number;
}

export type MembershipStep =
  | { readonly type: 'record'; readonly id: NodeId; readonly address: string; readonly role: 'voter' | 'learner' }
  | { readonly type: 'removeNode'; readonly id: NodeId; readonly why: string }
  | { readonly type: 'promote'; readonly id: NodeId }
  | { readonly type: 'demote'; readonly id: NodeId; readonly silentMs: number };

export function nextMembershipStep(v: MembershipView): MembershipStep | null {
  return recordStep(v) ?? removalStep(v) ?? promotionStep(v) ?? demotionStep(v);
}

function recordStep(v: MembershipView): MembershipStep | null {
  const roles: [NodeId, 'voter' | 'learner'][] = [
    ...v.confState.voters.map((id) => [id, 'voter'] as [NodeId, 'voter']),
    ...v.confState.learners.map((id) => [id, 'learner'] as [NodeId, 'learner']),
  ];
  for (const [id, role] of roles.sort(([a], [b]) => compare(a, b))) {
    const entry = v.book.get(id);
    if (entry?.role === 'removed') continue;
    // The leader's own address is what it listens on now (it may have moved since it was recorded).
    const address = id === v.self ? v.knownAddress(id) : (entry?.address ?? v.knownAddress(id));
    if (address === null) continue;
    if (!entry || entry.role !== role || entry.address !== address) return { type: 'record', id, address, role };
  }
  return null;
}

function removalStep(v: MembershipView): MembershipStep | null {
  const members = [...v.confState.voters, ...v.confState.learners].sort(compare);
  const leaving = members.find((id) => v.book.get(id)?.role === 'removed');
  if (leaving === undefined) return null;
  // The leader removes itself last, so a removal of another member never waits on a handover.
  const other = members.find((id) => id !== v.self && v.book.get(id)?.role === 'removed');
  return { type: 'removeNode', id: other ?? leaving, why: 'marked removed' };
}

function caughtUpLearners(v: MembershipView): NodeId[] {
  return v.confState.learners
    .filter((id) => {
      const pr = v.progress[id];
      return pr !== undefined && pr.state === 'replicate' && pr.match + v.catchUpEntries >= v.lastIndex && v.silentMs(id) <= v.liveWithinMs;
    })
    .sort(compare);
}

function promotionStep(v: MembershipView): MembershipStep | null {
  if (v.confState.voters.length >= v.maxVoters) return null;
  const ready = caughtUpLearners(v)[0];
  return ready === undefined ? null : { type: 'promote', id: ready };
}

function demotionStep(v: MembershipView): MembershipStep | null {
  if (caughtUpLearners(v).length === 0) return null;
  const silent = v.confState.voters
    .filter((id) => id !== v.self)
    .map((id) => ({ id, ms: v.silentMs(id) }))
    .filter((s) => s.ms > v.voterGraceMs)
    .sort((a, b) => b.ms - a.ms || compare(a.id, b.id))[0];
  return silent ? { type: 'demote', id: silent.id, silentMs: silent.ms } : null;
}

/** Code-unit order, the same on every node (localeCompare is not). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
