import { status } from '@grpc/grpc-js';
import { retryAfterMsKey, shedReasonKey } from '../client/retry.js';
import type { AdmissionConfig } from './config.js';
import type { RequestKind, ShedReason } from './policies.js';

/**
 * RESOURCE_EXHAUSTED: this node is out of capacity (CPU, memory, queue slots) right now.
 * UNAVAILABLE: the request cannot finish before its deadline here. Both are retryable by the
 * client (src/client/retry.ts), ideally on another node.
 */
export function grpcCodeFor(reason: ShedReason): status {
  return reason === 'deadline' ? status.UNAVAILABLE : status.RESOURCE_EXHAUSTED;
}

/**
 * The retry-after hint: base plus the expected queue wait for that kind (the queue needs about
 * that long to drain), rounded up to whole ms and capped at max. It is deterministic: the client
 * waits max(its own full-jitter backoff, hint), which spreads retries out.
 */
export function retryAfterHint(cfg: AdmissionConfig['retryAfterMs'], expectedWaitMs: number): number {
  const wait = Number.isFinite(expectedWaitMs) ? Math.max(0, expectedWaitMs) : cfg.max;
  return Math.ceil(Math.min(cfg.max, cfg.base + wait));
}

/**
 * Runs `make` with stack capture off. A shed is an expected answer given thousands of times a
 * second under overload, and its stack says nothing: capturing one (V8 walks and formats the
 * stack) was the largest single cost of refusing a request.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A request refused by admission control: not a failure of the request, a "not now". */
export class ShedError extends Error {
  readonly code = 'SHED';
  readonly grpcCode: status;

  constructor(
    readonly reason: ShedReason,
    readonly kind: RequestKind,
    readonly retryAfterMs: number,
    detail: string,
  ) {
    super(`this node is too busy to take the ${kind} now (${reason}: ${detail}); retry in ${retryAfterMs} ms, or on another node`);
    this.name = 'ShedError';
    this.grpcCode = grpcCodeFor(reason);
  }

  /** gRPC trailers the client reads (retry-after hint and shed reason). */
  metadata(): Record<string, string> {
    return { [retryAfterMsKey]: String(this.retryAfterMs), [shedReasonKey]: this.reason };
  }
}
