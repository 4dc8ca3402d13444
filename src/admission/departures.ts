import { ewmaStep } from './ewma.js';

/** Gaps measured before the average is trusted over the per-worker formula. */
const MIN_SAMPLES = 8;
/** Weight of the newest gap: a few hundred ms of history at hundreds of completions per second. */
const ALPHA = 0.05;

/**
 * How fast the worker pool really empties its queues: a moving average of the time between
 * completions, measured only while requests were waiting (a backlog), so idle time never counts.
 *
 * Why not service time / workers: in one Node process the workers share one event loop, so
 * tasks slow each other down and a download's service time (which includes sending its bytes)
 * swings tenfold with load. The observed drain rate already accounts for all of that; with it,
 * a request with n ahead waits about (n + 1) gaps (Little's law, from the departure side).
 */
export class DepartureGaps {
  private lastAtMs: number | null = null;
  private average = 0;
  private samples = 0;

  /** A backlog begins (a request queued behind busy workers): gaps are measured from here. */
  backlogStarted(nowMs: number): void {
    this.lastAtMs = nowMs;
  }

  /** A task finished; `backlogged` = requests were still waiting when it did. */
  departed(nowMs: number, backlogged: boolean): void {
    if (backlogged && this.lastAtMs !== null) {
      const gap = Math.max(0, nowMs - this.lastAtMs);
      this.average = this.samples === 0 ? gap : ewmaStep(this.average, gap, ALPHA);
      this.samples++;
    }
    this.lastAtMs = backlogged ? nowMs : null;
  }

  /** The average gap in ms, or null until enough backlog has been seen. */
  gapMs(): number | null {
    return this.samples >= MIN_SAMPLES ? this.average : null;
  }
}
