import { status, type ServiceError } from '@grpc/grpc-js';

/** Metadata keys a node sets on its answers, read by the client. */
export const leaderAddressKey = 'x-larder-leader';
/** Metadata carrying the client token when a cluster requires one (--client-token). */
export const clientTokenKey = 'x-larder-token';
export const retryAfterMsKey = 'x-larder-retry-after-ms';
export const shedReasonKey = 'x-larder-shed-reason';

export interface RetryPolicy {
  /** First backoff, doubled per attempt up to maxDelayMs; the actual wait is uniform in [0, that] (full jitter). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Total time the call may take, retries included. */
  readonly deadlineMs: number;
  /**
   * The gRPC deadline of each attempt (capped by what is left of deadlineMs). Nodes shed at once
   * a request that cannot finish within its deadline, so a short one fails fast on an overloaded
   * node and is retried elsewhere; long uploads need a long one.
   */
  readonly attemptTimeoutMs: number;
}

export const defaultRetry: RetryPolicy = { baseDelayMs: 50, maxDelayMs: 2000, deadlineMs: 30_000, attemptTimeoutMs: 30_000 };

export type Outcome =
  { readonly kind: 'retry'; readonly leaderHint: string | null; readonly retryAfterMs: number; readonly shed: boolean } | { readonly kind: 'fail' };

/**
 * Which errors may be retried. Every call of the client is idempotent on the server (uploads are
 * content-addressed, deletes and lock calls are keyed), so a retry after an ambiguous failure
 * cannot apply twice; errors that a retry cannot fix are not retried.
 */
export function classify(e: ServiceError): Outcome {
  const leaderHint = e.metadata?.get(leaderAddressKey)[0]?.toString() ?? null;
  const retryAfter = Number(e.metadata?.get(retryAfterMsKey)[0]?.toString() ?? 0);
  const shed = e.metadata?.get(shedReasonKey)[0] !== undefined;
  switch (e.code) {
    // DEADLINE_EXCEEDED: one attempt ran out of its own deadline (attemptTimeoutMs); the call's
    // total deadline may leave room for another.
    case status.UNAVAILABLE:
    case status.RESOURCE_EXHAUSTED:
    case status.ABORTED:
    case status.DEADLINE_EXCEEDED:
      return { kind: 'retry', leaderHint, retryAfterMs: Number.isFinite(retryAfter) ? retryAfter : 0, shed };
    case status.FAILED_PRECONDITION:
      // NOT_LEADER: retry on the leader the node named.
      return leaderHint ? { kind: 'retry', leaderHint, retryAfterMs: 0, shed: false } : { kind: 'fail' };
    default:
      return { kind: 'fail' };
  }
}

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 20));
  return Math.floor(random() * cap);
}

export class LarderClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly grpcCode: status | null,
    /** True if the request was refused by load shedding rather than failed. */
    readonly shed: boolean,
  ) {
    super(message);
    this.name = 'LarderClientError';
  }
}
