import type { Message } from '../../types.js';
import { kebab } from './format.js';

/**
 * The simulated network: a FIFO of messages in flight, a stash of delayed ones, and one-way
 * cuts. It moves nothing by itself; commands take messages out and deliver them.
 */
export class Network {
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Messages held back by `stash-msgs`, to be re-queued later (delay, reordering). */
  stash: Message[] = [];
  /** One-way cuts "from->to" and the message types they drop (null: every type). */
  private readonly cuts = new Map<string, Set<string> | null>();

  /** Drops messages from -> to (of the given printed types only, if any) from now on. */
  cut(from: string, to: string, types?: readonly string[]): void {
    const key = `${from}->${to}`;
    const cur = this.cuts.get(key);
    if (types === undefined || cur === null) this.cuts.set(key, null);
    else this.cuts.set(key, new Set([...(cur ?? []), ...types]));
  }

  heal(): void {
    this.cuts.clear();
  }

  isCut(m: Message): boolean {
    const rule = this.cuts.get(`${m.from}->${m.to}`);
    return rule === null || (rule !== undefined && rule.has(kebab(m.type)));
  }

  /** Takes the queued messages to `id` that `keep` selects, in order. */
  take(id: string, keep: (m: Message) => boolean = () => true): Message[] {
    const taken = this.queue.filter((m) => m.to === id && keep(m));
    this.queue = this.queue.filter((m) => !taken.includes(m));
    return taken;
  }
}
