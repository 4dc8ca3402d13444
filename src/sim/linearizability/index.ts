/**
 * Linearizability checker for a key-value register with put, get and compare-and-set
 * (Wing & Gong search with Lowe's memoization, per key).
 */
import { explainViolation } from './explain.js';
import { byCallTime } from './format.js';
import { compileKey } from './model.js';
import type { CheckOptions, CheckResult, Operation } from './types.js';
import { resolveMaxSteps, validateHistory } from './validate.js';
import { searchKey } from './wgl.js';

export type { CheckOptions, CheckResult, KvOp, KvResult, Operation } from './types.js';
export { formatHistory } from './format.js';
export { DEFAULT_MAX_STEPS_PER_KEY } from './validate.js';

/**
 * Checks that `history` is linearizable w.r.t. a register whose keys all start absent.
 *
 * - Real-time order: A precedes B only if A.ret < B.call strictly; equal stamps mean concurrent.
 * - `ret: null` (outcome unknown): a put/cas may take effect at any point after its call, or never;
 *   a get is ignored. Clients are ignored (several ops of one client may overlap).
 * - Keys are independent registers, so a history is linearizable iff each key's sub-history is
 *   (linearizability is compositional); keys are searched separately, in sorted order.
 * - `maxStepsPerKey` bounds the search per key (one step = one candidate op considered); when it
 *   runs out the answer is 'unknown', never ok. A definite violation on any key wins over
 *   'unknown' on another.
 * - `opsChecked`: operations in the history minus the ignored unknown-outcome gets.
 *
 * Throws an Error on a malformed history (see validateHistory) or a bad `maxStepsPerKey`.
 */
export function checkLinearizable(history: readonly Operation[], opts?: CheckOptions): CheckResult {
  const maxSteps = resolveMaxSteps(opts);
  validateHistory(history);
  const byKey = partitionByKey(history);
  let undecided: CheckResult | null = null;
  let opsChecked = 0;
  for (const key of [...byKey.keys()].sort(compareStrings)) {
    const keyOps = byKey.get(key)!;
    opsChecked += keyOps.filter((o) => o.result !== null || o.op.kind !== 'get').length;
    const m = compileKey(keyOps);
    const found = searchKey(m, maxSteps);
    if (found.kind === 'violation') {
      return { ok: false, key, explanation: explainViolation(key, keyOps, m, found.longestPrefix) };
    }
    if (found.kind === 'budget' && undecided === null) {
      const reason =
        `search budget of ${found.steps} steps exhausted on key ${JSON.stringify(key)} ` +
        `(${keyOps.length} operations); raise maxStepsPerKey or record less concurrency`;
      undecided = { ok: 'unknown', key, reason };
    }
  }
  return undecided ?? { ok: true, opsChecked };
}

function partitionByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const o of history) {
    const list = byKey.get(o.op.key);
    if (list) list.push(o);
    else byKey.set(o.op.key, [o]);
  }
  for (const list of byKey.values()) list.sort(byCallTime);
  return byKey;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
