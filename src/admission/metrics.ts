import type { PolicyName } from './config.js';
import { shedReasons, type LoadSample, type RequestKind, type ShedReason } from './policies.js';

/**
 * Counters per request kind. Every request is either shed at the door (shed[reason], except the
 * deadline sheds counted in expiredInQueue) or accepted; an accepted one is, at any moment,
 * queued, running, completed, failed or expiredInQueue:
 *   accepted = queued + running + completed + failed + expiredInQueue.
 */
export interface KindCounters {
  accepted: number;
  completed: number;
  /** The task threw or rejected: its own failure, not a shed. */
  failed: number;
  /** Accepted, then its deadline passed while it waited; also counted in shed.deadline. */
  expiredInQueue: number;
  shed: Record<ShedReason, number>;
}

export interface KindSnapshot extends KindCounters {
  /** Current queue depth (waiting, not running). */
  queued: number;
  running: number;
  serviceMsEwma: number;
  /** What a request of this kind arriving now would expect to wait before it starts. */
  expectedWaitMs: number;
  /** Moving average of the time served requests spent queued. */
  waitMsEwma: number;
}

/** Plain data (JSON-able; NaN load fields become null) for the UI, logs and benchmarks. */
export interface AdmissionSnapshot {
  workers: number;
  busyWorkers: number;
  load: LoadSample;
  policies: Record<PolicyName, boolean>;
  kinds: Record<RequestKind, KindSnapshot>;
}

export function newCounters(): KindCounters {
  const shed = Object.fromEntries(shedReasons.map((r) => [r, 0])) as Record<ShedReason, number>;
  return { accepted: 0, completed: 0, failed: 0, expiredInQueue: 0, shed };
}

export function copyCounters(c: KindCounters): KindCounters {
  return { ...c, shed: { ...c.shed } };
}
