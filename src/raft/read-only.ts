import type { NodeId } from './types.js';

interface PendingRead {
  readonly index: number;
  readonly context: string;
  /** The node whose client asked (the leader itself, or a follower that forwarded the request). */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex bookkeeping on the leader (Raft thesis §6.4): a read is recorded at the current commit
 * index and released once a heartbeat round sent after it has been acknowledged by a quorum,
 * proving that no newer leader existed when the read was registered. Acknowledging a later
 * round releases every earlier read too.
 */
export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>();
  private queue: string[] = [];

  constructor(private readonly maxPending: number) {}

  has(context: string): boolean {
    return this.pending.has(context);
  }

  full(): boolean {
    return this.queue.length >= this.maxPending;
  }

  add(index: number, context: string, from: NodeId): void {
    if (this.pending.has(context)) return;
    this.pending.set(context, { index, context, from, acks: new Set() });
    this.queue.push(context);
  }

  /** Records an ack; returns how many distinct nodes have acked this context. */
  recvAck(from: NodeId, context: string): number {
    const req = this.pending.get(context);
    if (!req) return 0;
    req.acks.add(from);
    return req.acks.size;
  }

  /** Releases `context` and every read queued before it. */
  advance(context: string): PendingRead[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1).map((c) => this.pending.get(c)!);
    for (const r of released) this.pending.delete(r.context);
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  lastPendingContext(): string | null {
    return this.queue[this.queue.length - 1] ?? null;
  }

  /** Drops everything (leadership lost); returns what was pending so callers can be told. */
  clear(): PendingRead[] {
    const all = this.queue.map((c) => this.pending.get(c)!);
    this.pending.clear();
    this.queue = [];
    return all;
  }
}
