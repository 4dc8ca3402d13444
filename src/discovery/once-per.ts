/**
 * Lets each key through once per period. A neighbouring cluster or an old version announces every
 * few seconds, for hours: reporting each of those packets would drown the log the node layer
 * keeps of rejected records. Bounded, so a flood of distinct keys cannot grow it without limit.
 */
export class OncePer {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly periodMs: number,
    private readonly maxKeys = 1024,
  ) {}

  allow(key: string, now: number): boolean {
    const until = this.until.get(key);
    if (until !== undefined && until > now) return false;
    // Forgetting everything at the bound only means some keys are reported again early.
    if (this.until.size >= this.maxKeys) this.until.clear();
    this.until.set(key, now + this.periodMs);
    return true;
  }
}
