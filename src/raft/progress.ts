import { invariant } from './errors.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * A bounded window of in-flight appends (pipelining): each slot holds the last index a message
 * carried. The leader stops sending to a follower when the window is full.
 */
export class Inflights {
  private readonly buf: number[] = [];

  constructor(readonly capacity: number) {
    invariant(capacity > 0, 'inflight capacity must be positive');
  }

  add(lastIndex: number): void {
    invariant(!this.full(), 'inflights: add to a full window');
    this.buf.push(lastIndex);
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.buf.length && this.buf[n]! <= index) n++;
    if (n > 0) this.buf.splice(0, n);
  }

  freeFirstOne(): void {
    this.buf.shift();
  }

  full(): boolean {
    return this.buf.length >= this.capacity;
  }

  count(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf.length = 0;
  }
}

/**
 * The leader's view of one follower (etcd's Progress). In `probe` it sends one append per
 * heartbeat until one is accepted; in `replicate` it streams optimistically up to the inflight
 * window; in `snapshot` it waits for a snapshot to be installed.
 */
export class Progress {
  match = 0;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and not yet answered; pauses further probes. */
  probeSent = false;
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Ticks spent in the current state (used to retry a snapshot that was lost). */
  stateTicks = 0;
  readonly inflights: Inflights;

  constructor(
    public next: number,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState('replicate');
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to n. Returns whether match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** A message carrying entries up to `last` was just sent while replicating. */
  optimisticUpdate(last: number): void {
    this.next = last + 1;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is where the logs may agree.
   * Returns false if the rejection is stale (out of order) and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.stateTicks = 0;
    this.inflights.reset();
  }
}
