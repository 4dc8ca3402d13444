/**
 * Adaptive client-side throttling (Google SRE book, "Handling Overload"): a client whose requests
 * a node keeps refusing rejects a share of new ones itself, without sending them, with probability
 *
 *     p = max(0, (requests - k * accepts) / (requests + 1))
 *
 * over a sliding window. Why: a refusal is not free for the node. For a 255 KiB download it costs
 * about a seventh of serving one (docs/admission.md), so at 3x its capacity a node spends a third
 * of its CPU saying no. A request a client rejects locally costs the node nothing. With k = 2 the
 * node still receives about twice what it accepts, so it keeps seeing the overload (and the
 * clients see it end within one window).
 *
 * Pure: the clock and the random source are injected.
 */
export interface ThrottleConfig {
  /** Requests sent per request accepted before the client starts rejecting locally. */
  readonly k: number;
  readonly windowMs: number;
  /** The window slides in this many steps. */
  readonly buckets: number;
}

export const defaultThrottle: ThrottleConfig = { k: 2, windowMs: 10_000, buckets: 10 };

export class AdaptiveThrottle {
  private readonly requests: number[];
  private readonly accepts: number[];
  /** Which step of time each bucket currently counts. */
  private readonly stepOf: number[];
  private readonly stepMs: number;

  constructor(
    private readonly config: ThrottleConfig,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {
    if (!(config.k >= 1) || !(config.windowMs > 0) || !Number.isInteger(config.buckets) || config.buckets < 1)
      throw new Error(`throttle config ${JSON.stringify(config)}: k must be at least 1, windowMs above 0, buckets a whole number of at least 1`);
    this.stepMs = config.windowMs / config.buckets;
    this.requests = new Array<number>(config.buckets).fill(0);
    this.accepts = new Array<number>(config.buckets).fill(0);
    this.stepOf = new Array<number>(config.buckets).fill(-1);
  }

  /** Counts a request and says whether to send it (false: reject it here, the node is overloaded). */
  allow(): boolean {
    const p = this.rejectProbability();
    this.requests[this.bucket()]!++;
    return p === 0 || this.random() >= p;
  }

  /** The node took a request that was sent (served it, or answered anything but a refusal). */
  accepted(): void {
    this.accepts[this.bucket()]!++;
  }

  rejectProbability(): number {
    this.bucket();
    const requests = sum(this.requests);
    return Math.max(0, (requests - this.config.k * sum(this.accepts)) / (requests + 1));
  }

  /** The current step's bucket, emptied first if it last counted an older step. */
  private bucket(): number {
    const step = Math.floor(this.now() / this.stepMs);
    const i = step % this.config.buckets;
    if (this.stepOf[i] !== step) {
      // Also empty buckets skipped since the last call: their steps have left the window.
      for (let j = 0; j < this.config.buckets; j++) {
        if (this.stepOf[j]! > step - this.config.buckets) continue;
        this.requests[j] = 0;
        this.accepts[j] = 0;
        this.stepOf[j] = -1;
      }
      this.stepOf[i] = step;
    }
    return i;
  }
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
