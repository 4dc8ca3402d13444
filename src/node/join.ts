import { Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { nodeChannelOptions } from '../client/larder-client.js';
import { leaderAddressKey } from '../client/retry.js';
import { Backoff } from '../discovery/index.js';
import { MembershipServiceClient, type JoinRequest, type JoinResponse } from '../shared/proto/larder/v1/membership.js';
import type { Logger } from './log.js';

export interface JoinPlan {
  /** Where a cluster may be (host:port); asked again every round, as discovery learns more. */
  readonly candidates: () => readonly string[];
  readonly request: JoinRequest;
  /** Verified mutual TLS (peerChannelCredentials): only a node of our cluster passes. */
  readonly credentials: ChannelCredentials;
  /** Our certificate, the server's unchecked (peerProbeCredentials): see askToJoin. */
  readonly probeCredentials: ChannelCredentials;
  readonly log: Logger;
  readonly stopped: () => boolean;
  readonly random?: () => number;
  readonly attemptTimeoutMs?: number;
}

export class JoinRefusedError extends Error {
  readonly code = 'JOIN_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'JoinRefusedError';
  }
}

/**
 * Asks candidates to admit this node until the leader does, following redirects to the leader,
 * with full-jitter exponential backoff between rounds (nodes started together do not retry in
 * step). A refusal that retrying cannot fix (a taken node id) ends it with JoinRefusedError.
 */
export async function joinCluster(plan: JoinPlan): Promise<JoinResponse> {
  const backoff = new Backoff({ baseMs: 200, capMs: 5000, random: plan.random ?? Math.random });
  for (let round = 1; !plan.stopped(); round++) {
    const asked = new Set<string>();
    const queue = [...plan.candidates()];
    for (let target = queue.shift(); target !== undefined && !plan.stopped(); target = queue.shift()) {
      if (asked.has(target)) continue;
      asked.add(target);
      const answer = await askToJoin(target, plan);
      if (answer.kind === 'accepted') return answer.response;
      if (answer.kind === 'redirect') queue.unshift(answer.to);
      else if (round % 10 === 1) plan.log.info({ target, why: answer.why, round }, 'not admitted yet; will ask again');
    }
    await new Promise((res) => setTimeout(res, backoff.next()));
  }
  throw new JoinRefusedError('the node stopped before a cluster admitted it');
}

/** `later`: a member answered but could not admit us now; `down`: nothing answered there. */
export type JoinAnswer =
  { kind: 'accepted'; response: JoinResponse } | { kind: 'redirect'; to: string } | { kind: 'later'; why: string } | { kind: 'down'; why: string };

/**
 * One Join call. It goes out without checking the server's certificate, so that a node of another
 * cluster (or one with another secret) sees our call and refuses and logs it. An acceptance is
 * then confirmed over verified mutual TLS (a plain re-join, which a member answers without
 * changing anything): an answer from a node that cannot prove it holds the secret is ignored.
 */
export async function askToJoin(
  target: string,
  plan: Pick<JoinPlan, 'request' | 'credentials' | 'probeCredentials' | 'log' | 'attemptTimeoutMs'>,
): Promise<JoinAnswer> {
  const first = await callJoin(target, plan.probeCredentials, plan.request, plan);
  if (first.kind !== 'accepted') return first;
  const confirm = await callJoin(target, plan.credentials, { ...plan.request, rebuild: false }, plan);
  if (confirm.kind === 'accepted') return first;
  plan.log.warn(
    { target, why: confirm.kind === 'redirect' ? 'redirected' : confirm.why },
    `${target} admitted this node but could not prove it holds the cluster secret; ignored`,
  );
  return { kind: 'later', why: 'unconfirmed admission' };
}

async function callJoin(
  target: string,
  credentials: ChannelCredentials,
  request: JoinRequest,
  plan: Pick<JoinPlan, 'log' | 'attemptTimeoutMs'>,
): Promise<JoinAnswer> {
  const client = new MembershipServiceClient(target, credentials, nodeChannelOptions);
  try {
    const response = await new Promise<JoinResponse>((resolve, reject) =>
      client.join(request, new Metadata(), { deadline: Date.now() + (plan.attemptTimeoutMs ?? 10_000) }, (e: ServiceError | null, r?: JoinResponse) =>
        e ? reject(e) : resolve(r!),
      ),
    );
    if (response.accepted) return { kind: 'accepted', response };
    if (response.leaderAddress && response.leaderAddress !== target) return { kind: 'redirect', to: response.leaderAddress };
    return { kind: 'later', why: response.message };
  } catch (e) {
    const err = e as ServiceError;
    if (err.code === status.INVALID_ARGUMENT) throw new JoinRefusedError(`${target} refused this node: ${err.details}`);
    if (err.code === status.UNAUTHENTICATED) {
      plan.log.error({ target }, `${target} refused this node's certificate: start it with the cluster's secret (--cluster-secret)`);
    }
    const leader = err.metadata?.get(leaderAddressKey)[0];
    if (typeof leader === 'string' && leader !== target) return { kind: 'redirect', to: leader };
    const why = err.details ?? err.message;
    return err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED ? { kind: 'down', why } : { kind: 'later', why };
  } finally {
    client.close();
  }
}
