import type { CheckOptions, Operation } from './types.js';

export const DEFAULT_MAX_STEPS_PER_KEY = 2_000_000;

/**
 * Rejects malformed histories up front: the search would otherwise silently give meaningless
 * answers (e.g. an op "returning" before it was called can never be linearized).
 * Checks shapes at run time too, since histories may come from untyped JSON.
 */
export function validateHistory(history: readonly Operation[]): void {
  if (!Array.isArray(history)) throw new Error('Invalid history: expected an array of operations');
  const ids = new Set<number>();
  history.forEach((o, index) => {
    const fail = (what: string): never => {
      const id = typeof o === 'object' && o !== null ? String((o as { id?: unknown }).id) : '?';
      throw new Error(`Invalid history: operation at index ${index} (id ${id}): ${what}`);
    };
    if (typeof o !== 'object' || o === null) fail('not an object');
    if (typeof o.id !== 'number' || !Number.isFinite(o.id)) fail('id must be a finite number');
    if (ids.has(o.id)) fail(`duplicate id ${o.id}`);
    ids.add(o.id);
    if (typeof o.client !== 'number' || !Number.isFinite(o.client)) fail('client must be a finite number');
    const opProblem = checkOp(o.op);
    if (opProblem) fail(opProblem);
    const timeProblem = checkTimes(o);
    if (timeProblem) fail(timeProblem);
    const resultProblem = checkResult(o);
    if (resultProblem) fail(resultProblem);
  });
}

function checkOp(op: Operation['op']): string | null {
  if (typeof op !== 'object' || op === null) return 'op must be an object';
  if (typeof op.key !== 'string') return 'op.key must be a string';
  switch (op.kind) {
    case 'get':
      return null;
    case 'put':
      return typeof op.value === 'string' ? null : 'put value must be a string';
    case 'cas':
      if (op.expected !== null && typeof op.expected !== 'string') return 'cas expected must be a string or null';
      return typeof op.value === 'string' ? null : 'cas value must be a string';
    default:
      return `unknown op kind ${JSON.stringify((op as { kind?: unknown }).kind)}`;
  }
}

function checkTimes(o: Operation): string | null {
  if (typeof o.call !== 'number' || !Number.isFinite(o.call)) return 'call must be a finite number';
  if (o.ret === null) return null;
  if (typeof o.ret !== 'number' || !Number.isFinite(o.ret)) return 'ret must be a finite number or null';
  return o.ret > o.call ? null : `ret (${o.ret}) must be greater than call (${o.call})`;
}

function checkResult(o: Operation): string | null {
  const r = o.result;
  if (o.ret === null) return r === null ? null : 'result must be null when ret is null (outcome unknown)';
  if (typeof r !== 'object' || r === null) return 'result must be non-null when ret is non-null';
  if (r.kind !== o.op.kind) return `result kind '${String(r.kind)}' does not match op kind '${o.op.kind}'`;
  if (r.kind === 'get' && r.value !== null && typeof r.value !== 'string') return 'get result value must be a string or null';
  if (r.kind === 'cas' && typeof r.ok !== 'boolean') return 'cas result ok must be a boolean';
  return null;
}

export function resolveMaxSteps(opts: CheckOptions | undefined): number {
  const v = opts?.maxStepsPerKey;
  if (v === undefined) return DEFAULT_MAX_STEPS_PER_KEY;
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`maxStepsPerKey must be a positive integer, got ${String(v)}`);
  return v;
}
