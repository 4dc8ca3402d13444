import { seededRandom } from '../raft/rand.js';

/** The simulator's one source of randomness: everything about a run follows from its seed. */
export class SimRandom {
  private readonly rng: ReturnType<typeof seededRandom>;

  constructor(readonly seed: number) {
    this.rng = seededRandom(seed);
  }

  float(): number {
    return this.rng.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return this.rng.int(n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.rng.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.rng.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.rng.int(items.length)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** A derived, independent stream (e.g. one per node) that does not disturb this one's sequence. */
  fork(salt: number): SimRandom {
    return new SimRandom((Math.imul(this.seed ^ 0x5bd1e995, 0x27d4eb2d) + salt * 0x9e3779b1) >>> 0);
  }
}
