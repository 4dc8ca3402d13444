import type { Entry, NodeId, Raft, Role } from '../raft/index.js';

export type ViolationKind =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-safety'
  | 'commit-monotonic'
  | 'invariant'
  | 'linearizability'
  | 'liveness'
  | 'divergence';

/** A safety or liveness property failed. Carries what a developer needs to see why. */
export class Violation extends Error {
  constructor(
    readonly kind: ViolationKind,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = 'Violation';
  }
}

/** FNV-1a over a string, two lanes, as a short hex text: cheap identity for log entries. */
function fnv(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16) + (b >>> 0).toString(16);
}

function bytesText(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

/** What identifies an entry's content: its term, kind and payload. */
export function entryDigest(e: Entry): string {
  const body = e.kind === 'normal' ? bytesText(e.data) : JSON.stringify(e.change);
  return `${e.term}|${e.kind}|${fnv(body)}`;
}

/**
 * Raft's safety properties (Figure 3 of the paper), checked as the simulation runs:
 * election safety, log matching (through a hash chain over each node's durable log), leader
 * completeness, state machine safety, and that a committed index never changes or goes back.
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index/term) -> hash of the whole log prefix ending there, as any node persisted it. */
  private readonly chainAt = new Map<string, string>();
  /** index -> digest of the entry committed there. */
  private readonly committed = new Map<number, string>();
  private readonly committedTerm = new Map<number, number>();
  private readonly applied = new Map<number, string>();
  /** Per node: index -> chain hash of its durable log. */
  private readonly chains = new Map<NodeId, Map<number, string>>();

  observeRole(node: NodeId, term: number, role: Role): void {
    if (role !== 'leader') return;
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== node) throw new Violation('election-safety', `two leaders in term ${term}: ${other} and ${node}`);
    this.leaderOfTerm.set(term, node);
  }

  /** A node persisted `entries` (after truncating anything from their first index on). */
  observePersist(node: NodeId, entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    const chain = this.chainOf(node);
    for (const k of [...chain.keys()]) if (k >= first.index) chain.delete(k);
    let prev = first.index === 1 ? '' : chain.get(first.index - 1);
    if (prev === undefined) throw new Violation('log-matching', `${node} persisted ${first.index} without holding ${first.index - 1}`);
    for (const e of entries) {
      const h = fnv(prev + '/' + entryDigest(e));
      const key = `${e.index}/${e.term}`;
      const seen = this.chainAt.get(key);
      if (seen !== undefined && seen !== h) {
        throw new Violation('log-matching', `${node} holds entry ${key} with a log prefix that differs from another node's holding the same index and term`);
      }
      this.chainAt.set(key, h);
      chain.set(e.index, h);
      prev = h;
    }
  }

  /** A node installed a snapshot: its log now starts after (index, term). */
  observeSnapshot(node: NodeId, index: number, term: number): void {
    const chain = this.chainOf(node);
    chain.clear();
    const known = this.chainAt.get(`${index}/${term}`);
    if (known === undefined) throw new Violation('log-matching', `${node} installed a snapshot at ${index}/${term} that no node ever logged`);
    chain.set(index, known);
    this.recordCommitted(node, index, `snapshot@${term}`, term, true);
  }

  /** A node made durable a commit index; `entryAt` reads its log. */
  observeCommit(node: NodeId, from: number, to: number, entryAt: (i: number) => Entry | null): void {
    if (to < from) throw new Violation('commit-monotonic', `${node} persisted commit ${to} after ${from}`);
    for (let i = from + 1; i <= to; i++) {
      const e = entryAt(i);
      if (e) this.recordCommitted(node, i, entryDigest(e), e.term, false);
    }
  }

  private recordCommitted(node: NodeId, index: number, digest: string, term: number, fromSnapshot: boolean): void {
    const seenTerm = this.committedTerm.get(index);
    if (seenTerm !== undefined && seenTerm !== term) {
      throw new Violation('commit-safety', `${node} committed index ${index} at term ${term}, but term ${seenTerm} was committed there before`);
    }
    if (fromSnapshot) return;
    const seen = this.committed.get(index);
    if (seen !== undefined && seen !== digest) throw new Violation('commit-safety', `${node} committed a different entry at index ${index}`);
    this.committed.set(index, digest);
    this.committedTerm.set(index, term);
  }

  observeApply(node: NodeId, e: Entry): void {
    const d = entryDigest(e);
    const seen = this.applied.get(e.index);
    if (seen !== undefined && seen !== d) {
      throw new Violation('state-machine-safety', `${node} applied ${d} at index ${e.index} where another node applied ${seen}`);
    }
    this.applied.set(e.index, d);
  }

  /** A new leader's log must hold every entry committed so far (§5.4.1). */
  checkLeaderCompleteness(node: NodeId, raft: Raft): void {
    const floor = raft.log.firstIndex() - 1;
    for (const [index, term] of this.committedTerm) {
      if (index <= floor) continue;
      const t = raft.log.term(index);
      if (t !== term) {
        throw new Violation('leader-completeness', `${node} leads term ${raft.term} without committed entry ${index}/${term} (it has ${t === null ? 'nothing' : `term ${t}`} there)`);
      }
    }
  }

  committedCount(): number {
    return this.committed.size;
  }

  private chainOf(node: NodeId): Map<number, string> {
    let c = this.chains.get(node);
    if (!c) this.chains.set(node, (c = new Map()));
    return c;
  }
}
