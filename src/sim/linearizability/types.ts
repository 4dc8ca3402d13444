/** The operations a client can issue against the replicated key-value register. */
export type KvOp =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** What the client observed. For `get`, `value: null` means the key was absent. */
export type KvResult =
  | { readonly kind: 'put' }
  | { readonly kind: 'get'; readonly value: string | null }
  | { readonly kind: 'cas'; readonly ok: boolean };

/** One client operation as recorded by the simulator. */
export interface Operation {
  /** Unique in the history. */
  readonly id: number;
  /** Informational only: the checker does not assume one op at a time per client. */
  readonly client: number;
  readonly op: KvOp;
  /** Logical time of invocation. */
  readonly call: number;
  /** Logical time of response (> call); null = outcome unknown (timed out / crashed). */
  readonly ret: number | null;
  /** Null iff `ret` is null. */
  readonly result: KvResult | null;
}

export type CheckResult =
  | { readonly ok: true; readonly opsChecked: number }
  | { readonly ok: false; readonly key: string; readonly explanation: string }
  | { readonly ok: 'unknown'; readonly key: string; readonly reason: string };

export interface CheckOptions {
  /** Search steps allowed per key before giving up with `ok: 'unknown'`. Default 2,000,000. */
  readonly maxStepsPerKey?: number;
}
