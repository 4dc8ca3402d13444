/**
 * What the crash tests expect after a SIGKILL. The child's operations reach the WAL in the order
 * they were issued, and each one's entries are one checksummed record, so the recovered log must
 * be exactly the log after the first k operations, for some k between the number acknowledged
 * and the number issued. Nothing acknowledged may be missing; nothing half-applied may appear.
 */

export type ModelOp =
  | { readonly kind: 'append'; readonly first: number; readonly count: number; readonly term: number; readonly commit: number }
  | { readonly kind: 'compact'; readonly snapshotIndex: number; readonly compactIndex: number };

/** The log as index -> term, after the compaction point `start`. */
export interface ModelLog {
  start: number;
  terms: number[];
}

export interface ChildTranscript {
  readonly ready: { first: number; last: number; term: number; commit: number } | null;
  readonly ops: ModelOp[];
  /** The highest operation acknowledged: ops[0, acked) are all durable. */
  readonly acked: number;
  readonly problems: string[];
}

export function parseTranscript(stdout: string): ChildTranscript {
  const ops: ModelOp[] = [];
  const ackedSet = new Set<number>();
  const problems: string[] = [];
  let ready: ChildTranscript['ready'] = null;
  for (const line of stdout.split('\n')) {
    const [word, ...rest] = line.trim().split(' ');
    const n = rest.map(Number);
    if (word === 'ready') ready = { first: n[0]!, last: n[1]!, term: n[2]!, commit: n[3]! };
    else if (word === 'issue' && rest[1] === 'append') ops.push({ kind: 'append', first: n[2]!, count: n[3]!, term: n[4]!, commit: n[5]! });
    else if (word === 'issue' && rest[1] === 'compact') ops.push({ kind: 'compact', snapshotIndex: n[2]!, compactIndex: n[3]! });
    else if (word === 'ack') ackedSet.add(n[0]!);
    else if (word !== '') problems.push(`unexpected child output: ${line}`);
    if (word === 'issue' && n[0] !== ops.length) problems.push(`operations issued out of order: ${line}`);
    if (word === 'ack' && !(n[0]! >= 1 && n[0]! <= ops.length)) problems.push(`acknowledgement of an operation never issued: ${line}`);
  }
  // The WAL is written in issue order, so an acknowledged op vouches for every op before it. Two
  // acks from one group commit may print a few microtasks apart in either order (a save that
  // waited behind a snapshot resolves through one more promise), and SIGKILL can fall in between.
  const acked = Math.max(0, ...ackedSet);
  return { ready, ops, acked, problems };
}

export function lastIndexOf(log: ModelLog): number {
  return log.start + log.terms.length;
}

export function applyOp(log: ModelLog, op: ModelOp): ModelLog {
  if (op.kind === 'compact') {
    return { start: op.compactIndex, terms: log.terms.slice(op.compactIndex - log.start) };
  }
  const kept = log.terms.slice(0, op.first - 1 - log.start);
  return { start: log.start, terms: [...kept, ...Array<number>(op.count).fill(op.term)] };
}

function sameLog(a: ModelLog, b: ModelLog): boolean {
  return a.start === b.start && a.terms.length === b.terms.length && a.terms.every((t, i) => t === b.terms[i]);
}

/**
 * The k in [acked, ops.length] whose prefix of operations turns `base` into `recovered`, or a
 * description of how the recovered log differs from every allowed one.
 */
export function matchingPrefix(base: ModelLog, t: ChildTranscript, recovered: ModelLog): number | string {
  let log = base;
  for (let k = 0; k <= t.ops.length; k++) {
    if (k >= t.acked && sameLog(log, recovered)) return k;
    const op = t.ops[k];
    if (op !== undefined) log = applyOp(log, op);
  }
  const acked = t.ops.slice(0, t.acked).reduce(applyOp, base);
  return (
    `recovered log (start ${recovered.start}, last ${lastIndexOf(recovered)}) matches no prefix of the ${t.ops.length} issued operations ` +
    `that includes the ${t.acked} acknowledged ones (after those: start ${acked.start}, last ${lastIndexOf(acked)})`
  );
}

/** The hard state commit the acknowledged operations guarantee at least. */
export function ackedCommit(t: ChildTranscript, baseCommit: number): number {
  return t.ops.slice(0, t.acked).reduce((c, op) => (op.kind === 'append' ? Math.max(c, op.commit) : c), baseCommit);
}
