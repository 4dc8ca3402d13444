import type { Operation } from './types.js';

/*
 * The sequential register model for ONE key, compiled into flat arrays for the search loop.
 *
 * States are small integers: ABSENT, OTHER, or an id >= 2 for each *observed* value, i.e. a value
 * some completed get returned or some cas expects. Every other value collapses into OTHER: no op
 * can tell two unobserved values apart (gets only return observed values, cas only compares with
 * observed ones), so merging them is exact, and it keeps the memo cache small when every put
 * writes a fresh value, which is what a simulator usually does.
 */
export const ABSENT = 0;
export const OTHER = 1;
/** step() result: the op cannot (or, for an optional op, need not) be linearized here. */
export const NO_MOVE = -1;
export const NO_TWIN = -1;

export const PUT = 0;
export const GET = 1;
export const CAS = 2;

export interface CompiledKey {
  /** Ops that take part in the search, in call order; indices below refer to this array. */
  readonly ops: readonly Operation[];
  readonly kind: Uint8Array;
  /** 1 if the outcome is known (completed op), 0 if it may have happened or not. */
  readonly known: Uint8Array;
  /** put/cas: state written. */
  readonly write: Int32Array;
  /** get: state it returned; cas: state it expects. */
  readonly expect: Int32Array;
  /** Completed cas: 1 if it succeeded. */
  readonly casOk: Uint8Array;
  /** 1 for completed ops that cannot change the state: gets and failed cas. */
  readonly readOnly: Uint8Array;
  /** Unknown-outcome op: the previous unknown-outcome op with the same effect, or NO_TWIN. */
  readonly twin: Int32Array;
}

/**
 * Compiles the ops of one key. Drops ops that cannot influence the verdict:
 * - gets with unknown outcome (they observed nothing);
 * - unknown-outcome puts of unobserved values, when no completed cas failed on this key. Such a
 *   put can only move the state to OTHER, where no completed get or successful cas can run, so in
 *   any linearization it is overwritten before anything observes it and can simply be left out.
 *   (A failed cas *can* depend on the state being OTHER rather than its expected value, hence the
 *   condition.) Dropping them matters because every optional op otherwise doubles the space of
 *   configurations the search may have to visit.
 */
export function compileKey(keyOps: readonly Operation[]): CompiledKey {
  const ids = internObserved(keyOps);
  const stateOf = (v: string | null): number => (v === null ? ABSENT : (ids.get(v) ?? OTHER));
  const anyFailedCas = keyOps.some((o) => o.result?.kind === 'cas' && !o.result.ok);
  const ops = keyOps
    .filter((o) => {
      if (o.result !== null) return true;
      if (o.op.kind === 'get') return false;
      return o.op.kind === 'cas' || anyFailedCas || ids.has(o.op.value);
    })
    .sort((a, b) => a.call - b.call || a.id - b.id);
  const n = ops.length;
  const m = {
    ops,
    kind: new Uint8Array(n),
    known: new Uint8Array(n),
    write: new Int32Array(n),
    expect: new Int32Array(n),
    casOk: new Uint8Array(n),
    readOnly: new Uint8Array(n),
    twin: new Int32Array(n).fill(NO_TWIN),
  };
  ops.forEach((o, i) => {
    m.known[i] = o.result === null ? 0 : 1;
    const op = o.op;
    if (op.kind === 'put') {
      m.kind[i] = PUT;
      m.write[i] = stateOf(op.value);
    } else if (op.kind === 'get') {
      m.kind[i] = GET;
      m.expect[i] = stateOf(o.result?.kind === 'get' ? o.result.value : null);
      m.readOnly[i] = 1;
    } else {
      m.kind[i] = CAS;
      m.write[i] = stateOf(op.value);
      m.expect[i] = stateOf(op.expected);
      m.casOk[i] = o.result?.kind === 'cas' && o.result.ok ? 1 : 0;
      m.readOnly[i] = o.result?.kind === 'cas' && !o.result.ok ? 1 : 0;
    }
  });
  linkTwins(m);
  return m;
}

/** Fills `twin`: optional ops that act identically in every state are interchangeable. */
function linkTwins(m: CompiledKey): void {
  const last = new Map<string, number>();
  for (let i = 0; i < m.ops.length; i++) {
    if (m.known[i] === 1) continue;
    const effect = `${m.kind[i]}:${m.expect[i]}:${m.write[i]}`;
    const prev = last.get(effect);
    if (prev !== undefined) m.twin[i] = prev;
    last.set(effect, i);
  }
}

function internObserved(keyOps: readonly Operation[]): Map<string, number> {
  const ids = new Map<string, number>();
  const add = (v: string | null): void => {
    if (v !== null && !ids.has(v)) ids.set(v, ids.size + 2);
  };
  for (const o of keyOps) {
    if (o.op.kind === 'cas') add(o.op.expected);
    if (o.result?.kind === 'get') add(o.result.value);
  }
  return ids;
}

/**
 * Applies op i to `state`; returns the next state or NO_MOVE.
 * An unknown-outcome op that would change nothing is also NO_MOVE: the configuration it leads to
 * differs from the current one only by having one fewer optional op left, so it can do nothing
 * the current one cannot, and exploring it is wasted work.
 */
export function step(m: CompiledKey, state: number, i: number): number {
  const known = m.known[i] === 1;
  switch (m.kind[i]) {
    case PUT: {
      const next = m.write[i]!;
      return known || next !== state ? next : NO_MOVE;
    }
    case GET:
      return m.expect[i] === state ? state : NO_MOVE;
    default: {
      const matches = m.expect[i] === state;
      if (known) {
        if (matches !== (m.casOk[i] === 1)) return NO_MOVE;
        return matches ? m.write[i]! : state;
      }
      const next = m.write[i]!;
      return matches && next !== state ? next : NO_MOVE;
    }
  }
}
