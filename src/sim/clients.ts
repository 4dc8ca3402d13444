import type { KvOp, KvResult, Operation } from './linearizability/index.js';
import type { SimRandom } from './random.js';

interface OpenOp {
  readonly id: number;
  readonly client: number;
  readonly op: KvOp;
  readonly call: number;
}

/**
 * The recorded client history: every invocation and response, stamped with a global logical
 * clock so that "A returned before B was invoked" is exact. Operations known not to have taken
 * effect (refused, or superseded in the log) leave the history; ones whose fate is unknown stay
 * with ret = null, which the checker treats as "maybe, at any point after the call".
 */
export class History {
  private clock = 0;
  private nextId = 1;
  private readonly open = new Map<number, OpenOp>();
  private readonly done: Operation[] = [];
  failed = 0;

  invoke(client: number, op: KvOp): number {
    const id = this.nextId++;
    this.open.set(id, { id, client, op, call: this.clock++ });
    return id;
  }

  complete(id: number, result: KvResult): void {
    const o = this.take(id);
    this.done.push({ ...o, ret: this.clock++, result });
  }

  /** The operation certainly did not take effect. */
  fail(id: number): void {
    this.take(id);
    this.failed++;
  }

  /** The client gave up waiting: it may or may not have taken effect. */
  unknown(id: number): void {
    const o = this.take(id);
    this.done.push({ ...o, ret: null, result: null });
  }

  isOpen(id: number): boolean {
    return this.open.has(id);
  }

  /** Everything, with still-open operations as unknown. */
  operations(): Operation[] {
    return [...this.done, ...[...this.open.values()].map((o) => ({ ...o, ret: null, result: null }))];
  }

  counts(): { ok: number; unknown: number; failed: number } {
    const unknown = this.done.filter((o) => o.ret === null).length + this.open.size;
    return { ok: this.done.length - (unknown - this.open.size), unknown, failed: this.failed };
  }

  private take(id: number): OpenOp {
    const o = this.open.get(id);
    if (!o) throw new Error(`history: operation ${id} is not open`);
    this.open.delete(id);
    return o;
  }
}

/** Draws the next operation of a client: puts, reads and compare-and-sets over a few keys. */
export function nextOp(rand: SimRandom, client: number, seq: number, keys: number, lastSeen: Map<string, string | null>): KvOp {
  const key = `k${rand.int(keys)}`;
  const value = `c${client}.${seq}`;
  const r = rand.float();
  if (r < 0.4) return { kind: 'put', key, value };
  if (r < 0.75) return { kind: 'get', key };
  const expected = rand.chance(0.7) ? (lastSeen.get(key) ?? null) : null;
  return { kind: 'cas', key, expected, value };
}
