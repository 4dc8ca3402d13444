import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLinearizable, formatHistory, type KvOp, type Operation } from './index.js';
import { codeUnits } from './opset.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, so every random case is replayable from its seed. */
function prng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)]! };
}

/** Hand-written histories: each helper appends one op with the next id. */
function builder() {
  const ops: Operation[] = [];
  let client = 0;
  const add = (op: KvOp, call: number, ret: number | null, result: Operation['result']): Operation => {
    const o: Operation = { id: ops.length + 1, client: client++ % 4, op, call, ret, result };
    ops.push(o);
    return o;
  };
  return {
    ops,
    put: (key: string, value: string, call: number, ret: number) => add({ kind: 'put', key, value }, call, ret, { kind: 'put' }),
    putUnknown: (key: string, value: string, call: number) => add({ kind: 'put', key, value }, call, null, null),
    get: (key: string, value: string | null, call: number, ret: number) => add({ kind: 'get', key }, call, ret, { kind: 'get', value }),
    getUnknown: (key: string, call: number) => add({ kind: 'get', key }, call, null, null),
    cas: (key: string, expected: string | null, value: string, ok: boolean, call: number, ret: number) =>
      add({ kind: 'cas', key, expected, value }, call, ret, { kind: 'cas', ok }),
    casUnknown: (key: string, expected: string | null, value: string, call: number) =>
      add({ kind: 'cas', key, expected, value }, call, null, null),
  };
}

function expectOk(history: readonly Operation[]): void {
  const r = checkLinearizable(history);
  if (r.ok !== true) throw new Error(`expected linearizable, got ${JSON.stringify(r, null, 1)}\n${formatHistory(history)}`);
}

function expectViolation(history: readonly Operation[], key?: string): string {
  const r = checkLinearizable(history);
  if (r.ok !== false) throw new Error(`expected a violation, got ${JSON.stringify(r)}\n${formatHistory(history)}`);
  if (key !== undefined) expect(r.key).toBe(key);
  return r.explanation;
}

interface GenParams {
  readonly clients: number;
  readonly ops: number;
  readonly keys: number;
  /** Longest op duration, in ticks. */
  readonly maxDuration: number;
  /** Chance that a put/cas/get ends with an unknown outcome. */
  readonly unknownRate: number;
}

/**
 * A history that is linearizable by construction: clients issue ops back to back (integer
 * times, so call/return times often coincide); every op gets a linearization point strictly
 * inside its interval; replaying the ops on a real register in linearization-point order gives
 * the results. Unknown-outcome writes take effect at some point after their call, or never.
 */
function generate(seed: number, p: GenParams): Operation[] {
  const rand = prng(seed);
  const free = new Array<number>(p.clients).fill(0);
  type Draft = { id: number; client: number; kind: KvOp['kind']; key: string; call: number; ret: number | null; lin: number; applies: boolean };
  const drafts: Draft[] = [];
  for (let id = 1; id <= p.ops; id++) {
    const client = rand.int(p.clients);
    const call = free[client]! + rand.int(3);
    const duration = 1 + rand.int(p.maxDuration);
    const unknown = rand.next() < p.unknownRate;
    const ret = unknown ? null : call + duration;
    free[client] = call + duration; // a timed-out client moves on after its timeout
    const lin = call + (0.001 + 0.998 * rand.next()) * duration * (unknown ? 3 : 1);
    const roll = rand.next();
    const kind = roll < 0.4 ? 'put' : roll < 0.75 ? 'get' : 'cas';
    drafts.push({ id, client, kind, key: `k${rand.int(p.keys)}`, call, ret, lin, applies: !unknown || rand.next() < 0.5 });
  }
  const state = new Map<string, string | null>();
  const written = new Map<string, string[]>();
  const out: Operation[] = [];
  for (const d of [...drafts].sort((a, b) => a.lin - b.lin)) {
    const cur = state.get(d.key) ?? null;
    const known = d.ret !== null;
    if (d.kind === 'get') {
      out.push({ id: d.id, client: d.client, op: { kind: 'get', key: d.key }, call: d.call, ret: d.ret, result: known ? { kind: 'get', value: cur } : null });
      continue;
    }
    const value = `v${d.id}`;
    if (d.kind === 'put') {
      if (d.applies) state.set(d.key, value);
      out.push({ id: d.id, client: d.client, op: { kind: 'put', key: d.key, value }, call: d.call, ret: d.ret, result: known ? { kind: 'put' } : null });
    } else {
      const others = [null, ...(written.get(d.key) ?? [])];
      const expected = rand.next() < 0.6 ? cur : rand.pick(others);
      const ok = expected === cur;
      if (ok && d.applies) state.set(d.key, value);
      const op: KvOp = { kind: 'cas', key: d.key, expected, value };
      out.push({ id: d.id, client: d.client, op, call: d.call, ret: d.ret, result: known ? { kind: 'cas', ok } : null });
    }
    if (d.applies) written.set(d.key, [...(written.get(d.key) ?? []), value]);
  }
  return out.sort((a, b) => a.call - b.call || a.id - b.id);
}

/** Replaces the result of one completed get (chosen by `rand`) with `value`; returns its key. */
function corruptOneGet(history: Operation[], rand: ReturnType<typeof prng>, value: string): string | null {
  const gets = history.map((o, i) => [o, i] as const).filter(([o]) => o.op.kind === 'get' && o.result !== null);
  if (gets.length === 0) return null;
  const [o, i] = rand.pick(gets);
  history[i] = { ...o, result: { kind: 'get', value } };
  return o.op.key;
}

/**
 * Brute-force oracle, deliberately naive and independent of the checker: tries every order of
 * the ops that respects real time (A before B if A.ret < B.call), on all keys at once, where
 * unknown-outcome ops may be placed anywhere after their call or left out.
 */
function bruteForceLinearizable(history: readonly Operation[]): boolean {
  const ops = history.filter((o) => !(o.ret === null && o.op.kind === 'get'));
  const used = ops.map(() => false);
  const knownTotal = ops.filter((o) => o.ret !== null).length;
  const canGoNext = (i: number): boolean =>
    ops.every((o, j) => j === i || used[j] || o.ret === null || !(o.ret < ops[i]!.call));
  const apply = (state: ReadonlyMap<string, string>, o: Operation): Map<string, string> | null => {
    const cur = state.get(o.op.key) ?? null;
    const next = new Map(state);
    if (o.op.kind === 'put') next.set(o.op.key, o.op.value);
    else if (o.op.kind === 'get') return o.result?.kind === 'get' && o.result.value === cur ? next : null;
    else {
      const success = cur === o.op.expected;
      if (o.result?.kind === 'cas' && o.result.ok !== success) return null;
      if (success) next.set(o.op.key, o.op.value);
    }
    return next;
  };
  const dfs = (state: ReadonlyMap<string, string>, placedKnown: number): boolean => {
    if (placedKnown === knownTotal) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i] || !canGoNext(i)) continue;
      const next = apply(state, ops[i]!);
      if (next === null) continue;
      used[i] = true;
      const found = dfs(next, placedKnown + (ops[i]!.ret === null ? 0 : 1));
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return dfs(new Map(), 0);
}

/** Small random histories with random (mostly wrong) results, to exercise both verdicts. */
function randomSmallHistory(seed: number, maxOps: number, unknownRate: number): Operation[] {
  const rand = prng(seed);
  const n = 1 + rand.int(maxOps);
  const values = ['a', 'b', 'c'];
  const keys = rand.next() < 0.7 ? ['x'] : ['x', 'y'];
  const out: Operation[] = [];
  for (let id = 1; id <= n; id++) {
    const call = rand.int(12);
    const ret = rand.next() < unknownRate ? null : call + 1 + rand.int(6);
    const key = rand.pick(keys);
    const written = [...values, `fresh${id}`]; // fresh values are never observed
    const roll = rand.int(3);
    const op: KvOp =
      roll === 0
        ? { kind: 'put', key, value: rand.pick(written) }
        : roll === 1
          ? { kind: 'get', key }
          : { kind: 'cas', key, expected: rand.pick([null, ...values]), value: rand.pick(written) };
    const result: Operation['result'] =
      ret === null
        ? null
        : op.kind === 'put'
          ? { kind: 'put' }
          : op.kind === 'get'
            ? { kind: 'get', value: rand.pick([null, ...values]) }
            : { kind: 'cas', ok: rand.next() < 0.5 };
    out.push({ id, client: rand.int(3), op, call, ret, result });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('input validation', () => {
  const good = (): Operation => ({ id: 1, client: 0, op: { kind: 'put', key: 'k', value: 'a' }, call: 0, ret: 1, result: { kind: 'put' } });

  it('accepts an empty history', () => {
    expect(checkLinearizable([])).toEqual({ ok: true, opsChecked: 0 });
  });

  it('rejects duplicate ids', () => {
    expect(() => checkLinearizable([good(), { ...good(), call: 2, ret: 3 }])).toThrow(/duplicate id 1/);
  });

  it('rejects ret <= call', () => {
    expect(() => checkLinearizable([{ ...good(), call: 5, ret: 5 }])).toThrow(/ret \(5\) must be greater than call \(5\)/);
    expect(() => checkLinearizable([{ ...good(), call: 5, ret: 4 }])).toThrow(/greater than call/);
  });

  it('rejects a result kind that does not match the op kind', () => {
    expect(() => checkLinearizable([{ ...good(), result: { kind: 'get', value: 'a' } }])).toThrow(/result kind 'get' does not match op kind 'put'/);
  });

  it('rejects a null result with a non-null ret, and the reverse', () => {
    expect(() => checkLinearizable([{ ...good(), result: null }])).toThrow(/result must be non-null/);
    expect(() => checkLinearizable([{ ...good(), ret: null }])).toThrow(/result must be null when ret is null/);
  });

  it('rejects non-finite times, bad op kinds and bad field types', () => {
    expect(() => checkLinearizable([{ ...good(), call: Number.NaN }])).toThrow(/call must be a finite number/);
    expect(() => checkLinearizable([{ ...good(), ret: Infinity }])).toThrow(/ret must be a finite number/);
    const badKind = { ...good(), op: { kind: 'delete', key: 'k' } } as unknown as Operation;
    expect(() => checkLinearizable([badKind])).toThrow(/unknown op kind "delete"/);
    const badGet = { ...good(), op: { kind: 'get', key: 'k' }, result: { kind: 'get', value: 3 } } as unknown as Operation;
    expect(() => checkLinearizable([badGet])).toThrow(/get result value/);
    const badCas = { ...good(), op: { kind: 'cas', key: 'k', expected: null, value: 'a' }, result: { kind: 'cas', ok: 'yes' } } as unknown as Operation;
    expect(() => checkLinearizable([badCas])).toThrow(/cas result ok/);
  });

  it('rejects a bad maxStepsPerKey', () => {
    expect(() => checkLinearizable([good()], { maxStepsPerKey: 0 })).toThrow(/maxStepsPerKey/);
    expect(() => checkLinearizable([good()], { maxStepsPerKey: 1.5 })).toThrow(/maxStepsPerKey/);
  });
});

describe('linearizable histories', () => {
  it('a sequential history of puts, gets and cas', () => {
    const h = builder();
    h.get('k', null, 0, 1);
    h.put('k', 'a', 2, 3);
    h.get('k', 'a', 4, 5);
    h.cas('k', 'a', 'b', true, 6, 7);
    h.get('k', 'b', 8, 9);
    h.cas('k', 'a', 'c', false, 10, 11);
    h.cas('k', null, 'c', false, 12, 13);
    h.get('k', 'b', 14, 15);
    expect(checkLinearizable(h.ops)).toEqual({ ok: true, opsChecked: 8 });
  });

  it('cas from absent succeeds on a fresh key', () => {
    const h = builder();
    h.cas('k', null, 'a', true, 0, 1);
    h.get('k', 'a', 2, 3);
    expectOk(h.ops);
  });

  it('concurrent puts and gets where only a non-trivial order works', () => {
    const h = builder();
    h.put('k', 'a', 0, 10);
    h.put('k', 'b', 1, 11);
    h.get('k', 'b', 2, 12);
    h.get('k', 'a', 3, 13);
    // Only "put b, get b, put a, get a" explains the final read.
    h.get('k', 'a', 14, 15);
    expectOk(h.ops);
  });

  it('the same concurrent block also admits the other final value', () => {
    const h = builder();
    h.put('k', 'a', 0, 10);
    h.put('k', 'b', 1, 11);
    h.get('k', 'b', 2, 12);
    h.get('k', 'a', 3, 13);
    h.get('k', 'b', 14, 15);
    expectOk(h.ops);
  });

  it('a read concurrent with a write may see either value', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.put('k', 'b', 2, 10);
    h.get('k', 'a', 3, 4);
    h.get('k', 'b', 5, 6);
    h.get('k', 'b', 11, 12);
    expectOk(h.ops);
  });

  it('a cas race where exactly one succeeds', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.cas('k', 'a', 'x', false, 2, 10);
    h.cas('k', 'a', 'y', true, 3, 9);
    h.cas('k', 'a', 'z', false, 4, 8);
    h.get('k', 'y', 11, 12);
    expectOk(h.ops);
  });

  it('a cas chain resolved in the only order that works', () => {
    const h = builder();
    h.cas('k', 'b', 'c', true, 0, 10); // must go last
    h.cas('k', 'a', 'b', true, 1, 10);
    h.cas('k', null, 'a', true, 2, 10);
    h.get('k', 'c', 11, 12);
    expectOk(h.ops);
  });

  it('an unknown-outcome write that must be assumed to have happened', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.putUnknown('k', 'b', 2);
    h.get('k', 'b', 10, 11);
    expectOk(h.ops);
  });

  it('an unknown-outcome write that must be assumed never to have happened', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.putUnknown('k', 'b', 2);
    h.get('k', 'a', 10, 11);
    h.get('k', 'a', 20, 21);
    expectOk(h.ops);
  });

  it('an unknown-outcome write that takes effect long after its call', () => {
    const h = builder();
    h.putUnknown('k', 'b', 0);
    h.put('k', 'a', 1, 2);
    h.get('k', 'a', 10, 11);
    h.get('k', 'b', 20, 21);
    expectOk(h.ops);
  });

  it('an unknown-outcome cas that must have succeeded', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.casUnknown('k', 'a', 'b', 2);
    h.get('k', 'b', 10, 11);
    expectOk(h.ops);
  });

  it('an unknown-outcome write of a never-read value is needed to explain a failed cas', () => {
    const h = builder();
    h.putUnknown('k', 'zzz', 0);
    h.cas('k', null, 'q', false, 5, 6); // fails, so the key was not absent: the put happened
    h.get('k', 'zzz', 7, 8);
    expectOk(h.ops);
    const h2 = builder();
    h2.putUnknown('k', 'zzz', 0);
    h2.cas('k', null, 'q', false, 5, 6);
    expectOk(h2.ops);
  });

  it('unknown-outcome gets are ignored, whatever they might have seen', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.getUnknown('k', 2);
    h.get('k', 'a', 3, 4);
    expect(checkLinearizable(h.ops)).toEqual({ ok: true, opsChecked: 2 });
  });

  it('ops that share a time stamp (ret == call) are concurrent, not ordered', () => {
    const h = builder();
    h.put('k', 'a', 0, 5);
    h.get('k', null, 5, 8); // called exactly when the put returned: may still precede it
    expectOk(h.ops);
  });

  it('several keys interleaved', () => {
    const h = builder();
    h.put('x', 'x1', 0, 4);
    h.put('y', 'y1', 1, 3);
    h.get('x', null, 2, 5);
    h.get('y', 'y1', 4, 6);
    h.cas('x', 'x1', 'x2', true, 6, 9);
    h.cas('y', 'y1', 'y2', true, 7, 8);
    h.get('y', 'y2', 9, 10);
    h.get('x', 'x2', 10, 11);
    h.get('z', null, 0, 20);
    expect(checkLinearizable(h.ops)).toEqual({ ok: true, opsChecked: 9 });
  });

  it('does not assume a client has one op at a time', () => {
    const put: Operation = { id: 1, client: 0, op: { kind: 'put', key: 'k', value: 'a' }, call: 0, ret: 10, result: { kind: 'put' } };
    const get: Operation = { id: 2, client: 0, op: { kind: 'get', key: 'k' }, call: 1, ret: 2, result: { kind: 'get', value: 'a' } };
    expectOk([put, get]);
  });

  it('a long sequential history does not hit any recursion limit', () => {
    const h = builder();
    for (let i = 0; i < 5000; i++) {
      h.put('k', `v${i}`, 4 * i, 4 * i + 1);
      h.get('k', `v${i}`, 4 * i + 2, 4 * i + 3);
    }
    expectOk(h.ops);
  });
});

describe('non-linearizable histories', () => {
  it('a stale read after a completed write', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.put('k', 'b', 2, 3);
    h.get('k', 'a', 4, 5);
    expectViolation(h.ops, 'k');
  });

  it('a read of absent after a completed write', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.get('k', null, 2, 3);
    expectViolation(h.ops, 'k');
  });

  it('a read that returns before the write it saw was even called', () => {
    const h = builder();
    h.get('k', 'a', 0, 1);
    h.put('k', 'a', 2, 3);
    expectViolation(h.ops, 'k');
  });

  it('an unknown-outcome write cannot take effect before its call', () => {
    const h = builder();
    h.get('k', 'a', 0, 1);
    h.putUnknown('k', 'a', 2);
    expectViolation(h.ops, 'k');
  });

  it('a read of a value never written', () => {
    const h = builder();
    h.put('k', 'a', 0, 10);
    h.get('k', 'ghost', 1, 11);
    expectViolation(h.ops, 'k');
  });

  it('a value written only by a failed cas cannot be read', () => {
    const h = builder();
    h.cas('k', null, 'x', true, 0, 10);
    h.cas('k', null, 'y', false, 1, 10);
    h.get('k', 'y', 11, 12);
    expectViolation(h.ops, 'k');
  });

  it('two successful cas from the same expected value', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.cas('k', 'a', 'b', true, 2, 10);
    h.cas('k', 'a', 'c', true, 3, 11);
    expectViolation(h.ops, 'k');
  });

  it('a cas that failed although the key held its expected value', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.cas('k', 'a', 'b', false, 2, 3);
    expectViolation(h.ops, 'k');
  });

  it('non-monotonic reads: a newer value, then strictly later the older one', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.put('k', 'b', 2, 20); // still in flight during both reads
    h.get('k', 'b', 3, 4);
    h.get('k', 'a', 5, 6);
    expectViolation(h.ops, 'k');
  });

  it('classic: w1 completes, a read sees w1, a strictly later read sees the initial value', () => {
    const h = builder();
    h.put('k', 'w1', 0, 10);
    h.get('k', 'w1', 11, 20);
    h.get('k', null, 21, 30);
    expectViolation(h.ops, 'k');
  });

  it('classic, concurrent variant: both reads overlap the write, the later one sees the initial value', () => {
    const h = builder();
    h.put('k', 'w1', 0, 30);
    h.get('k', 'w1', 1, 5);
    h.get('k', null, 6, 10);
    expectViolation(h.ops, 'k');
  });

  it('ops that do not share a time stamp are ordered (call one tick after ret)', () => {
    const h = builder();
    h.put('k', 'a', 0, 5);
    h.get('k', null, 6, 8);
    expectViolation(h.ops, 'k');
  });

  it('a non-linearizable key hidden among many linearizable ones is the one reported', () => {
    const h = builder();
    for (let k = 0; k < 30; k++) {
      const key = `key-${String(k).padStart(2, '0')}`;
      h.put(key, 'a', k, k + 50);
      h.get(key, 'a', k + 51, k + 60);
      h.cas(key, 'a', 'b', true, k + 61, k + 70);
      // key-17: a strictly later read goes back to the value before the cas.
      h.get(key, k === 17 ? 'a' : 'b', k + 71, k + 80);
    }
    const explanation = expectViolation(h.ops, 'key-17');
    expect(explanation).toContain('"key-17"');
    expect(explanation).not.toContain('key-16');
  });

  it('a definite violation on one key wins over an exhausted budget on another', () => {
    const h = builder();
    for (let i = 0; i < 20; i++) h.put('big', `v${i}`, i, i + 100);
    h.put('bad', 'a', 0, 1);
    h.get('bad', null, 2, 3);
    const r = checkLinearizable(h.ops, { maxStepsPerKey: 10 });
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.key).toBe('bad');
  });

  it('the explanation lists the ops in call order, the longest prefix, and why nothing fits next', () => {
    const h = builder();
    h.put('k', 'a', 0, 1);
    h.put('k', 'b', 2, 3);
    h.getUnknown('k', 3);
    h.get('k', 'a', 4, 5);
    h.get('k', 'b', 6, 7);
    const explanation = expectViolation(h.ops, 'k');
    const lines = explanation.split('\n');
    expect(lines[0]).toBe('Key "k" is not linearizable.');
    // Every op, including the ignored unknown get, in call order with its interval and result.
    const opLines = lines.filter((l) => /^\s+#\d+\s+c\d/.test(l));
    expect(opLines.map((l) => /#(\d+)/.exec(l)![1])).toEqual(['1', '2', '3', '4', '5']);
    expect(opLines[0]).toMatch(/\[0, 1\]\s+put\("k", "a"\) -> ok/);
    expect(opLines[2]).toMatch(/\[3, \?\]\s+get\("k"\) -> \? \(outcome unknown\).*ignored/);
    expect(explanation).toContain('Longest linearizable prefix found (2 of 4 completed operations)');
    expect(explanation).toMatch(/2\. #2 put\("k", "b"\) -> ok\s+=> key holds "b"/);
    expect(explanation).toContain('#4 get("k") -> "a": it returned "a", but the key holds "b" here');
  });

  it('a long history with a violation at its very end is rejected, with a readable report', () => {
    const h = builder();
    for (let i = 0; i < 5000; i++) {
      h.put('k', `v${i}`, 4 * i, 4 * i + 1);
      h.get('k', i === 4999 ? 'v0' : `v${i}`, 4 * i + 2, 4 * i + 3);
    }
    const t0 = performance.now();
    const explanation = expectViolation(h.ops, 'k');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(explanation).toContain('Longest linearizable prefix found (9999 of 10000 completed operations)');
    expect(explanation).toContain('... (the first 9799 are not shown)');
    expect(explanation).toContain('#10000 get("k") -> "v0": it returned "v0", but the key holds "v4999" here');
  });

  it('the explanation says when not even the first operation fits', () => {
    const h = builder();
    h.get('k', 'ghost', 0, 1);
    const explanation = expectViolation(h.ops, 'k');
    expect(explanation).toContain('(none: not even the first operation fits)');
    expect(explanation).toContain('it returned "ghost", but the key holds absent here');
  });
});

describe('search budget', () => {
  it('a tiny maxStepsPerKey gives unknown, never ok', () => {
    const history = generate(7, { clients: 8, ops: 200, keys: 1, maxDuration: 30, unknownRate: 0.05 });
    expect(checkLinearizable(history).ok).toBe(true);
    const r = checkLinearizable(history, { maxStepsPerKey: 20 });
    expect(r.ok).toBe('unknown');
    if (r.ok === 'unknown') {
      expect(r.key).toBe('k0');
      expect(r.reason).toMatch(/budget of 20 steps exhausted/);
    }
  });

  it('a tiny budget on a non-linearizable history gives unknown, not a verdict either way', () => {
    const history = generate(8, { clients: 8, ops: 200, keys: 1, maxDuration: 30, unknownRate: 0 });
    const rand = prng(8);
    corruptOneGet(history, rand, 'ghost');
    expect(checkLinearizable(history).ok).toBe(false);
    expect(checkLinearizable(history, { maxStepsPerKey: 20 }).ok).toBe('unknown');
  });
});

describe('property: random histories', () => {
  it('histories linearizable by construction are accepted; one impossible read makes them rejected', () => {
    let rejectedChecked = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed * 7919);
      const params: GenParams = {
        clients: 1 + rand.int(8),
        ops: 10 + rand.int(150),
        keys: 1 + rand.int(4),
        maxDuration: 1 + rand.int(40),
        unknownRate: rand.pick([0, 0, 0.05, 0.2]),
      };
      const history = generate(seed, params);
      const r = checkLinearizable(history);
      if (r.ok !== true) throw new Error(`seed ${seed} ${JSON.stringify(params)}: ${JSON.stringify(r)}\n${formatHistory(history)}`);
      const key = corruptOneGet(history, rand, `never-written-${seed}`);
      if (key === null) continue;
      const bad = checkLinearizable(history);
      if (bad.ok !== false) throw new Error(`seed ${seed} ${JSON.stringify(params)}: corrupted history accepted: ${JSON.stringify(bad)}`);
      expect(bad.key).toBe(key);
      expect(bad.explanation).toContain(`never-written-${seed}`);
      rejectedChecked++;
    }
    expect(rejectedChecked).toBeGreaterThan(250);
  });

  it.each([
    { maxOps: 7, unknownRate: 0.2, seeds: 4000 },
    { maxOps: 8, unknownRate: 0.5, seeds: 3000 },
  ])('agrees with a brute-force oracle on small random histories, both verdicts (%o)', ({ maxOps, unknownRate, seeds }) => {
    let yes = 0;
    let no = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const history = randomSmallHistory(seed, maxOps, unknownRate);
      const expected = bruteForceLinearizable(history);
      const r = checkLinearizable(history);
      if (r.ok !== expected) throw new Error(`seed ${seed}: oracle says ${expected}, checker ${JSON.stringify(r)}\n${formatHistory(history)}`);
      if (expected) yes++;
      else no++;
    }
    // Both verdicts must be well represented, or this test would prove little.
    expect(yes).toBeGreaterThan(seeds / 5);
    expect(no).toBeGreaterThan(seeds / 5);
  });

  it('agrees with the oracle on small histories linearizable by construction, and their corruptions', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const history = generate(seed, { clients: 3, ops: 7, keys: 2, maxDuration: 6, unknownRate: 0.25 });
      expect(bruteForceLinearizable(history)).toBe(true);
      expectOk(history);
      const rand = prng(seed);
      // A plausible but wrong read: any value of the history, or absent.
      const gets = history.filter((o) => o.op.kind === 'get' && o.result !== null);
      if (gets.length === 0) continue;
      const target = rand.pick(gets);
      const candidates = [null, ...history.flatMap((o) => (o.op.kind === 'get' ? [] : [o.op.value]))];
      const mutated = history.map((o) => (o === target ? { ...o, result: { kind: 'get' as const, value: rand.pick(candidates) } } : o));
      expect(checkLinearizable(mutated).ok, `seed ${seed}\n${formatHistory(mutated)}`).toBe(bruteForceLinearizable(mutated));
    }
  });
});

describe('performance', () => {
  it.each([5, 1])('a 400-op history over %i key(s) from 8 concurrent clients checks quickly, and so does a corrupted one', (keys) => {
    const history = generate(42, { clients: 8, ops: 400, keys, maxDuration: 40, unknownRate: 0.05 });
    let t0 = performance.now();
    expect(checkLinearizable(history)).toEqual({ ok: true, opsChecked: expect.any(Number) });
    const okMs = performance.now() - t0;
    corruptOneGet(history, prng(42), 'ghost');
    t0 = performance.now();
    expect(checkLinearizable(history).ok).toBe(false);
    const badMs = performance.now() - t0;
    expect(okMs).toBeLessThan(5000);
    expect(badMs).toBeLessThan(5000);
  });

  it('the simulator workload: hundreds of histories of 50-400 ops check in seconds', () => {
    const t0 = performance.now();
    let checked = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const rand = prng(seed);
      const history = generate(seed, { clients: 2 + rand.int(7), ops: 50 + rand.int(351), keys: 1 + rand.int(5), maxDuration: 40, unknownRate: rand.pick([0, 0.02, 0.1]) });
      expect(checkLinearizable(history).ok).toBe(true);
      checked++;
    }
    const ms = performance.now() - t0;
    expect(checked).toBe(500);
    expect(ms).toBeLessThan(15000);
  });
});

describe('cache keys', () => {
  it('codeUnits encodes long bitsets exactly, in chunks', () => {
    const words = new Uint16Array(10_000).map((_, i) => (i * 7919) & 0xffff);
    const s = codeUnits(words);
    expect(s.length).toBe(words.length);
    for (let i = 0; i < words.length; i += 997) expect(s.charCodeAt(i)).toBe(words[i]);
    expect(s.charCodeAt(words.length - 1)).toBe(words[words.length - 1]);
  });
});

describe('formatHistory', () => {
  it('prints one line per op in call order, with ? for an unknown outcome', () => {
    const h = builder();
    h.put('k', 'a', 5, 9);
    h.casUnknown('k', null, 'b', 1);
    h.get('k', null, 3, 4);
    const lines = formatHistory(h.ops).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^#2\s+c1\s+\[1, \?\]\s+cas\("k", absent -> "b"\) -> \? \(outcome unknown\)$/);
    expect(lines[1]).toMatch(/^#3\s+c2\s+\[3, 4\]\s+get\("k"\) -> absent$/);
    expect(lines[2]).toMatch(/^#1\s+c0\s+\[5, 9\]\s+put\("k", "a"\) -> ok$/);
  });
});

describe('library purity', () => {
  it('library files use no clocks, no Math.random and no node: imports', () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      expect(src, f).not.toMatch(/Math\.random|\bDate\b|performance\.|setTimeout|setInterval|from 'node:/);
      for (const m of src.matchAll(/from '(\.[^']+)'/g)) expect(m[1], f).toMatch(/\.js$/);
    }
  });
});
