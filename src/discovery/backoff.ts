/**
 * Random exponential backoff with full jitter: attempt n waits a uniform time in
 * [0, min(cap, base * 2^n)). Nodes that started together and failed together then retry at
 * scattered moments instead of in lockstep, which is what spreads out a cluster's first joins.
 * Pure: the random source is injected.
 */

export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
  /** Uniform in [0, 1), e.g. Math.random, or a seeded generator in tests. */
  readonly random: () => number;
}

function check({ baseMs, capMs }: BackoffOptions): void {
  if (!(baseMs > 0) || !Number.isFinite(baseMs)) throw new RangeError(`baseMs must be a positive number, got ${baseMs}`);
  if (!(capMs >= baseMs) || !Number.isFinite(capMs)) throw new RangeError(`capMs must be at least baseMs (${baseMs}), got ${capMs}`);
}

/** The delay before retry number `attempt` (0 for the first retry), in whole ms. */
export function fullJitterDelay(attempt: number, options: BackoffOptions): number {
  check(options);
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  const r = options.random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
  // 2^attempt overflows to Infinity for huge attempts, which min() turns into the cap anyway.
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** attempt);
  return Math.floor(r * ceiling);
}

/** The same with the attempt counter kept: next() after each failure, reset() after a success. */
export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions) {
    check(options);
  }

  get attempt(): number {
    return this.attempts;
  }

  next(): number {
    const delay = fullJitterDelay(this.attempts, this.options);
    this.attempts += 1;
    return delay;
  }

  reset(): void {
    this.attempts = 0;
  }
}
