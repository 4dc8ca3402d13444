import { Backoff, addressOf, chooseBootstrap, type Announcement, type MdnsDiscovery } from '../discovery/index.js';
import type { JoinRequest, JoinResponse } from '../shared/proto/larder/v1/membership.js';
import { askToJoin, type JoinAnswer, type JoinPlan } from './join.js';
import type { Logger } from './log.js';

/** How a brand-new node without --initial-cluster enters a cluster. */
export type FormationOutcome = { readonly kind: 'bootstrap' } | { readonly kind: 'joined'; readonly response: JoinResponse };

export interface FormationPlan {
  readonly self: Announcement;
  readonly expect: number;
  /** --join / --peers: with these a node only ever joins (it cannot know their ids to elect a founder). */
  readonly staticPeers: readonly string[];
  readonly discovery: MdnsDiscovery | null;
  readonly join: Pick<JoinPlan, 'credentials' | 'probeCredentials' | 'log' | 'attemptTimeoutMs'> & { readonly request: JoinRequest };
  readonly log: Logger;
  readonly stopped: () => boolean;
  /** False for a rebuilt node: it must re-join its cluster, never found another. */
  readonly mayBootstrap: boolean;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** A bootstrap decision must hold this many rounds in a row: time to hear an existing cluster. */
const roundsBeforeBootstrap = 2;
/** Announcements older than this do not count as nodes waiting to form a cluster. */
const sightingMaxAgeMs = 30_000;

/**
 * Asks every candidate (static peers, and nodes of our cluster heard over mDNS) to admit us; a
 * running cluster does. When none runs, the nodes seen decide who founds it: once `expect` nodes
 * are seen, the lowest id bootstraps alone and the others join it as learners (they are promoted
 * as they catch up). Only a node with no member answering at all may bootstrap, and only after
 * the decision held for two rounds, so a running cluster is not split by a slow answer.
 */
export async function formCluster(plan: FormationPlan): Promise<FormationOutcome> {
  const backoff = new Backoff({ baseMs: 500, capMs: 4000, random: plan.random ?? Math.random });
  const now = plan.now ?? Date.now;
  let bootstrapRounds = 0;
  let lastWaitLog = 0;
  for (let round = 1; !plan.stopped(); round++) {
    const { accepted, anyMemberAnswered } = await askAll(plan);
    if (accepted) return { kind: 'joined', response: accepted };
    if (plan.mayBootstrap && plan.staticPeers.length === 0 && !anyMemberAnswered) {
      const decision = chooseBootstrap({
        expectedSize: plan.expect,
        self: plan.self,
        seen: plan.discovery?.entries() ?? [],
        now: now(),
        maxAgeMs: sightingMaxAgeMs,
      });
      bootstrapRounds = decision.action === 'bootstrap' ? bootstrapRounds + 1 : 0;
      if (bootstrapRounds >= roundsBeforeBootstrap) return { kind: 'bootstrap' };
      if (decision.action === 'wait' && now() - lastWaitLog > 10_000) {
        lastWaitLog = now();
        plan.log.info({ have: decision.have, expect: decision.expectedSize }, 'waiting for the other nodes of the new cluster to appear');
      }
    }
    await new Promise((res) => setTimeout(res, backoff.next()));
  }
  throw new Error('the node stopped before it found or formed a cluster');
}

async function askAll(plan: FormationPlan): Promise<{ accepted: JoinResponse | null; anyMemberAnswered: boolean }> {
  const seen = plan.discovery?.peers().map(addressOf) ?? [];
  const queue = [...new Set([...plan.staticPeers, ...seen])];
  const asked = new Set<string>();
  let anyMemberAnswered = false;
  for (let target = queue.shift(); target !== undefined && !plan.stopped(); target = queue.shift()) {
    if (asked.has(target)) continue;
    asked.add(target);
    const answer: JoinAnswer = await askToJoin(target, plan.join);
    if (answer.kind === 'accepted') return { accepted: answer.response, anyMemberAnswered: true };
    if (answer.kind === 'redirect') queue.unshift(answer.to);
    if (answer.kind !== 'down') anyMemberAnswered = true;
  }
  return { accepted: null, anyMemberAnswered };
}
