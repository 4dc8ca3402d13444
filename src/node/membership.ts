import { ProposalDroppedError, type ConfChange, type NodeId } from '../raft/index.js';
import type { ApplyResult, Command, MemberRole, MemberView } from '../store/index.js';
import type { JoinRequest, JoinResponse, Member } from '../shared/proto/larder/v1/membership.js';
import type { Logger } from './log.js';
import { nextMembershipStep, type MembershipStep } from './membership-policy.js';
import type { RaftLoop } from './raft-loop.js';

export interface MembershipSettings {
  readonly maxVoters: number;
  readonly voterGraceMs: number;
  readonly catchUpEntries: number;
  readonly liveWithinMs: number;
}

export interface MembershipDeps {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly loop: RaftLoop<ApplyResult>;
  readonly listMembers: () => Promise<MemberView[]>;
  readonly addresses: Map<NodeId, string>;
  readonly lastContact: (id: NodeId) => number | undefined;
  readonly now: () => number;
  readonly encode: (c: Command) => Uint8Array;
  readonly log: Logger;
  readonly settings: MembershipSettings;
}

export class MembershipError extends Error {
  constructor(
    readonly code: 'INVALID' | 'REFUSED',
    message: string,
  ) {
    super(message);
    this.name = 'MembershipError';
  }
}

/** How long a membership change may wait for an earlier one to apply before giving up. */
const changeWaitMs = 15_000;

/**
 * The leader's side of membership: admits joining nodes as learners, removes members, and keeps
 * the membership in shape (membership-policy.ts) one change at a time. Every operation runs in
 * one queue: Raft allows a single membership change in flight, and the address book and the
 * Raft membership must move together.
 */
export class Membership {
  private queue: Promise<unknown> = Promise.resolve();
  private busy = false;
  private leaderSince: number | null = null;

  constructor(private readonly deps: MembershipDeps) {}

  /** Answers a peer's Join: admitted as a learner if this node leads, else where to ask. */
  async join(req: JoinRequest): Promise<JoinResponse> {
    const { deps } = this;
    if (req.clusterId !== deps.clusterId) throw new MembershipError('INVALID', `this node belongs to cluster "${deps.clusterId}", not "${req.clusterId}"`);
    if (req.nodeId === deps.nodeId) throw new MembershipError('INVALID', `"${req.nodeId}" is this node's own id; give the joining node another --node-id`);
    const st = deps.loop.status();
    if (st.role !== 'leader') return this.notAdmitted(st.lead);
    await this.exclusive(() => this.admit(req));
    const now = deps.loop.status();
    return {
      accepted: true,
      leaderId: deps.nodeId,
      leaderAddress: deps.addresses.get(deps.nodeId) ?? '',
      term: now.term,
      members: await this.members(),
      message: '',
      admittedIndex: now.lastIndex,
    };
  }

  /** Marks `id` removed and takes it out of the Raft membership; false if it was not a member. */
  async remove(id: NodeId): Promise<boolean> {
    return this.exclusive(async () => {
      const cs = this.deps.loop.status().confState;
      const member = cs.voters.includes(id) || cs.learners.includes(id);
      const book = await this.book();
      if (!member && book.get(id)?.role !== 'voter' && book.get(id)?.role !== 'learner') return false;
      if (member && cs.voters.length === 1 && cs.voters[0] === id) {
        throw new MembershipError('REFUSED', `${id} is the cluster's only voter; add another node before removing it`);
      }
      await this.propose({ type: 'setMember', id, address: this.deps.addresses.get(id) ?? book.get(id)?.address ?? 'unknown:0', role: 'removed' });
      if (member) await this.change({ type: 'removeNode', node: id });
      this.deps.log.info({ member: id }, 'removed a member from the cluster');
      return true;
    });
  }

  /** Called periodically: on the leader, takes the next step the policy asks for. */
  async reconcile(): Promise<void> {
    const st = this.deps.loop.status();
    if (st.role !== 'leader' || st.progress === null) {
      this.leaderSince = null;
      return;
    }
    this.leaderSince ??= this.deps.now();
    if (this.busy) return;
    const book = await this.book();
    const step = nextMembershipStep({
      self: this.deps.nodeId,
      confState: st.confState,
      progress: st.progress,
      lastIndex: st.lastIndex,
      silentMs: (id) => this.deps.now() - Math.max(this.deps.lastContact(id) ?? 0, this.leaderSince ?? 0),
      book,
      knownAddress: (id) => this.deps.addresses.get(id) ?? null,
      ...this.deps.settings,
    });
    if (step)
      await this.exclusive(() => this.take(step)).catch((e: unknown) =>
        this.deps.log.warn({ step, err: (e as Error).message }, 'membership step failed; will retry'),
      );
  }

  private async admit(req: JoinRequest): Promise<void> {
    const cs = this.deps.loop.status().confState;
    const isMember = cs.voters.includes(req.nodeId) || cs.learners.includes(req.nodeId);
    const book = await this.book();
    if (isMember && !req.rebuild) {
      // A member restarted: only its address may have changed.
      const role = cs.voters.includes(req.nodeId) ? 'voter' : 'learner';
      if (book.get(req.nodeId)?.address !== req.address) await this.record(req.nodeId, req.address, role);
      return;
    }
    if (isMember && cs.voters.length === 1 && cs.voters[0] === req.nodeId) {
      throw new MembershipError('REFUSED', `${req.nodeId} is the cluster's only voter: there is no peer to rebuild it from`);
    }
    await this.record(req.nodeId, req.address, 'learner');
    if (isMember) await this.change({ type: 'removeNode', node: req.nodeId });
    await this.change({ type: 'addLearner', node: req.nodeId });
    this.deps.log.info({ member: req.nodeId, address: req.address, rebuild: req.rebuild }, 'admitted a node as a learner');
  }

  private async take(step: MembershipStep): Promise<void> {
    const { log } = this.deps;
    switch (step.type) {
      case 'record':
        return this.record(step.id, step.address, step.role);
      case 'removeNode':
        await this.change({ type: 'removeNode', node: step.id });
        return log.info({ member: step.id }, 'removed a member marked as leaving');
      case 'promote':
        await this.change({ type: 'addVoter', node: step.id });
        return log.info({ member: step.id }, 'promoted a caught-up learner to voter');
      case 'demote':
        // Its seat goes to a caught-up learner on the next step; it comes back as a replica.
        await this.change({ type: 'removeNode', node: step.id });
        await this.change({ type: 'addLearner', node: step.id });
        return log.warn({ member: step.id, silentMs: step.silentMs }, 'a voter was silent past the grace period; it is now a replica');
    }
  }

  private async record(id: NodeId, address: string, role: MemberRole): Promise<void> {
    this.deps.addresses.set(id, address);
    await this.propose({ type: 'setMember', id, address, role });
  }

  private async propose(c: Command): Promise<void> {
    const r = await this.deps.loop.propose(this.deps.encode(c));
    if (!r.ok) throw new MembershipError('REFUSED', r.message);
  }

  /** A membership change, retried while an earlier one is still being applied. */
  private async change(change: ConfChange): Promise<void> {
    const giveUpAt = this.deps.now() + changeWaitMs;
    for (;;) {
      try {
        await this.deps.loop.proposeConfChange(change);
        return;
      } catch (e) {
        const pending = e instanceof ProposalDroppedError && /not applied yet/.test(e.message);
        if (!pending || this.deps.now() > giveUpAt) throw e;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async book(): Promise<Map<NodeId, { address: string; role: MemberRole }>> {
    return new Map((await this.deps.listMembers()).map((m) => [m.id, { address: m.address, role: m.role }]));
  }

  private async members(): Promise<Member[]> {
    const cs = this.deps.loop.status().confState;
    const role = (id: NodeId): string => (cs.voters.includes(id) ? 'voter' : cs.learners.includes(id) ? 'learner' : 'removed');
    return [...this.deps.addresses].map(([id, address]) => ({ id, address, role: role(id) }));
  }

  private notAdmitted(lead: NodeId | null): JoinResponse {
    const leaderAddress = lead ? (this.deps.addresses.get(lead) ?? '') : '';
    const message = lead ? `${this.deps.nodeId} is not the leader; ask ${lead}` : `${this.deps.nodeId} knows no leader yet`;
    return { accepted: false, leaderId: lead ?? '', leaderAddress, term: 0, members: [], message, admittedIndex: 0 };
  }
}
