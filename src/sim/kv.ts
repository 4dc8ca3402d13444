import type { KvOp, KvResult } from './linearizability/index.js';

/** A client operation as carried in a log entry. */
export interface KvCommand {
  readonly opId: number;
  readonly op: KvOp;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

/** Decodes a normal entry's payload; null for the leader's empty no-op. */
export function decodeCommand(data: Uint8Array): KvCommand | null {
  if (data.length === 0) return null;
  return JSON.parse(decoder.decode(data)) as KvCommand;
}

/** The replicated state machine of the simulation: a map of registers. */
export class KvStore {
  private readonly values = new Map<string, string>();

  apply(op: KvOp): KvResult {
    switch (op.kind) {
      case 'put':
        this.values.set(op.key, op.value);
        return { kind: 'put' };
      case 'get':
        return { kind: 'get', value: this.get(op.key) };
      case 'cas': {
        const ok = this.get(op.key) === op.expected;
        if (ok) this.values.set(op.key, op.value);
        return { kind: 'cas', ok };
      }
    }
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** Canonical text of the whole state, to compare replicas. */
  digest(): string {
    return JSON.stringify([...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  encode(): Uint8Array {
    return encoder.encode(this.digest());
  }

  static decode(data: Uint8Array): KvStore {
    const kv = new KvStore();
    if (data.length === 0) return kv;
    for (const [k, v] of JSON.parse(decoder.decode(data)) as [string, string][]) kv.values.set(k, v);
    return kv;
  }
}
