import type { RequestKind } from './policies.js';

export interface RunningTask {
  readonly kind: RequestKind;
  readonly startedAtMs: number;
}

export interface WaitInputs {
  readonly workers: number;
  readonly running: Iterable<RunningTask>;
  readonly queued: Readonly<Record<RequestKind, number>>;
  /** Average service time per kind (the EWMA). */
  readonly serviceMs: (kind: RequestKind) => number;
  readonly now: number;
}

/**
 * Expected wait before a request of this kind arriving now would start:
 *   0 while a worker is free (the queues are then empty), else
 *   firstFree + sum(queued ahead of it x their service time) / workers,
 * where firstFree is when the first worker frees up, each running task being assumed to take its
 * kind's average (time already spent counts; an overdue task counts as finishing now). Ahead of a
 * download wait the queued downloads; ahead of an upload everything queued (the occasional upload
 * turn, see TwoQueues, is ignored, so the estimate errs long for uploads, never short).
 */
export function estimateWaitMs(kind: RequestKind, w: WaitInputs): number {
  const remaining = [...w.running].map((r) => Math.max(0, w.serviceMs(r.kind) - (w.now - r.startedAtMs)));
  if (remaining.length < w.workers) return 0;
  remaining.sort((a, b) => a - b);
  // Normally the soonest finisher; if workers were reduced at runtime, more must finish first.
  const firstFree = remaining[remaining.length - w.workers] ?? 0;
  let queuedMs = w.queued.download * w.serviceMs('download');
  if (kind === 'upload') queuedMs += w.queued.upload * w.serviceMs('upload');
  return firstFree + queuedMs / w.workers;
}
