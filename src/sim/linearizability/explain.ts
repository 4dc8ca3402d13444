import { showOp, showOperation, showResult, showValue } from './format.js';
import type { CompiledKey } from './model.js';
import type { Operation } from './types.js';

/** The end of the prefix is where it went wrong; thousands of earlier lines would bury it. */
const MAX_PREFIX_LINES = 200;

type Concrete = { readonly next: string | null } | { readonly why: string };

/**
 * The register semantics on real values, used only to narrate a failure. It mirrors model.step
 * (which works on abstract state ids) but says *why* an op cannot go next.
 */
function applyConcrete(state: string | null, o: Operation): Concrete {
  const op = o.op;
  const r = o.result;
  const holds = `the key holds ${showValue(state)} here`;
  if (op.kind === 'put') {
    return r === null && op.value === state ? { why: 'outcome unknown, and it would change nothing here' } : { next: op.value };
  }
  if (op.kind === 'get') {
    const seen = r?.kind === 'get' ? r.value : null;
    return seen === state ? { next: state } : { why: `it returned ${showValue(seen)}, but ${holds}` };
  }
  const matches = op.expected === state;
  if (r === null) {
    if (!matches) return { why: `outcome unknown, and it could not succeed here: ${holds}` };
    return op.value === state ? { why: 'outcome unknown, and it would change nothing here' } : { next: op.value };
  }
  const ok = r.kind === 'cas' && r.ok;
  if (ok && !matches) return { why: `it succeeded, so the key held ${showValue(op.expected)}, but ${holds}` };
  if (!ok && matches) return { why: `it failed, but ${holds}, which is its expected value` };
  return { next: ok ? op.value : state };
}

/**
 * The failure report: every op on the key in call order, the longest linearizable prefix the
 * search found, and why each op that could have come next after that prefix does not fit.
 */
export function explainViolation(
  key: string,
  allKeyOps: readonly Operation[],
  m: CompiledKey,
  prefix: readonly number[],
): string {
  const searched = new Set(m.ops.map((o) => o.id));
  const lines = [`Key ${JSON.stringify(key)} is not linearizable.`, `Operations on it in call order (${allKeyOps.length}):`];
  for (const o of allKeyOps) {
    const note = searched.has(o.id) ? '' : '   (ignored: outcome unknown and it cannot affect any observation)';
    lines.push(`  ${showOperation(o)}${note}`);
  }
  const completed = m.ops.filter((o) => o.result !== null).length;
  const inPrefix = prefix.filter((i) => m.ops[i]!.result !== null).length;
  lines.push(`Longest linearizable prefix found (${inPrefix} of ${completed} completed operations):`);
  let state: string | null = null;
  const shownFrom = Math.max(0, prefix.length - MAX_PREFIX_LINES);
  if (shownFrom > 0) lines.push(`  ... (the first ${shownFrom} are not shown)`);
  prefix.forEach((i, k) => {
    const o = m.ops[i]!;
    const r = applyConcrete(state, o);
    state = 'next' in r ? r.next : state; // always 'next': the search only linearizes legal steps
    if (k < shownFrom) return;
    lines.push(`  ${k + 1}. #${o.id} ${showOp(o.op)} -> ${showResult(o.result)}   => key holds ${showValue(state)}`);
  });
  if (prefix.length === 0) lines.push('  (none: not even the first operation fits)');
  lines.push(...explainDeadEnd(m, prefix, state));
  return lines.join('\n');
}

/** Which op must be linearized next (the earliest pending return) and why no candidate fits. */
function explainDeadEnd(m: CompiledKey, prefix: readonly number[], state: string | null): string[] {
  const done = new Set(prefix);
  const rest = m.ops.filter((_, i) => !done.has(i));
  let deadline: Operation | null = null;
  for (const o of rest) {
    if (o.ret !== null && (deadline === null || deadline.ret === null || o.ret < deadline.ret)) deadline = o;
  }
  if (deadline === null || deadline.ret === null) return [];
  const due = deadline.ret;
  const lines = [
    `After that prefix, #${deadline.id} (returned at ${due}) or an op called by then must come next, but none fits:`,
  ];
  for (const o of rest) {
    if (o.call > due) continue;
    const r = applyConcrete(state, o);
    const why = 'why' in r ? r.why : 'it fits here, but no order of the remaining operations works after it';
    lines.push(`  #${o.id} ${showOp(o.op)} -> ${showResult(o.result)}: ${why}`);
  }
  return lines;
}
