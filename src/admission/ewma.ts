import type { RequestKind } from './policies.js';

/** One step of an exponentially weighted moving average: recent samples count most. */
export function ewmaStep(previous: number, sample: number, alpha: number): number {
  return previous + alpha * (sample - previous);
}

/**
 * A moving average per request kind (service time or queue wait, in ms). Alpha is passed per
 * record so a runtime config change takes effect at once.
 */
export class KindEwma {
  private readonly values: Record<RequestKind, number>;

  constructor(initial: Record<RequestKind, number>) {
    this.values = { ...initial };
  }

  get(kind: RequestKind): number {
    return this.values[kind];
  }

  /** Ignores NaN and clamps negatives (an injected clock that stepped back) to 0. */
  record(kind: RequestKind, sampleMs: number, alpha: number): void {
    if (Number.isNaN(sampleMs)) return;
    this.values[kind] = ewmaStep(this.values[kind], Math.max(0, sampleMs), alpha);
  }
}
