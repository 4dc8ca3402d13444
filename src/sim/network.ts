import type { NodeId } from '../raft/index.js';
import type { SimRandom } from './random.js';

export interface LinkConditions {
  /** Probability that a message is lost (the simulator goes up to 0.3). */
  readonly dropRate: number;
  /** Probability that a message is delivered twice. */
  readonly dupRate: number;
  /** Delivery delay in time units, drawn uniformly per message: variable delay reorders. */
  readonly minDelay: number;
  readonly maxDelay: number;
}

export const perfectLinks: LinkConditions = { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 1 };

/**
 * The simulated network: lossy, duplicating, reordering links, and partitions (symmetric or
 * one-way) that are checked when a message arrives, so a partition also cuts messages in flight.
 */
export class Network {
  conditions: LinkConditions = perfectLinks;
  private readonly blocked = new Set<string>();

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Cuts every link between different groups, both ways. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`);
      }
    }
  }

  /** Cuts only from -> to (an asymmetric partition: `to` still reaches `from`). */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  describe(): string {
    return this.blocked.size === 0 ? 'connected' : [...this.blocked].sort().join(' ');
  }

  /** Delivery delays for one message: empty if dropped, two if duplicated. */
  plan(rand: SimRandom): number[] {
    const c = this.conditions;
    if (rand.chance(c.dropRate)) return [];
    const delay = (): number => rand.range(c.minDelay, c.maxDelay);
    return rand.chance(c.dupRate) ? [delay(), delay()] : [delay()];
  }
}
