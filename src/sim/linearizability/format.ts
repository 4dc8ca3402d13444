import type { KvOp, KvResult, Operation } from './types.js';

/** A value as a developer should read it: JSON-quoted, or `absent` for null. */
export function showValue(v: string | null): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

export function showOp(op: KvOp): string {
  const key = JSON.stringify(op.key);
  switch (op.kind) {
    case 'put':
      return `put(${key}, ${JSON.stringify(op.value)})`;
    case 'get':
      return `get(${key})`;
    case 'cas':
      return `cas(${key}, ${showValue(op.expected)} -> ${JSON.stringify(op.value)})`;
  }
}

export function showResult(r: KvResult | null): string {
  if (r === null) return '? (outcome unknown)';
  switch (r.kind) {
    case 'put':
      return 'ok';
    case 'get':
      return showValue(r.value);
    case 'cas':
      return r.ok ? 'ok' : 'failed';
  }
}

/** `#id c<client> [call, ret] op -> result`; `ret` shows `?` for an unknown outcome. */
export function showOperation(o: Operation): string {
  const id = `#${o.id}`.padEnd(6);
  const client = `c${o.client}`.padEnd(4);
  const span = `[${o.call}, ${o.ret ?? '?'}]`.padEnd(14);
  return `${id} ${client} ${span} ${showOp(o.op)} -> ${showResult(o.result)}`;
}

export function byCallTime(a: Operation, b: Operation): number {
  return a.call - b.call || a.id - b.id;
}

/**
 * One line per op, in call order (ties by id), for failure reports. Does not validate, so it can
 * be used to print a history that checkLinearizable rejected.
 */
export function formatHistory(history: readonly Operation[]): string {
  return [...history].sort(byCallTime).map(showOperation).join('\n');
}
