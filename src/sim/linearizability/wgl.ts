import { ABSENT, GET, NO_MOVE, NO_TWIN, PUT, step, type CompiledKey } from './model.js';

export type SearchResult =
  | { readonly kind: 'linearizable' }
  /** `longestPrefix`: op indices (into CompiledKey.ops) of the longest linearizable prefix seen. */
  | { readonly kind: 'violation'; readonly longestPrefix: readonly number[] }
  | { readonly kind: 'budget'; readonly steps: number };

const NIL = -1;
const HEAD = 0;

/**
 * The history as a doubly linked list of call and return events in time order (Wing & Gong).
 * Node 0 is the head sentinel; op i has call node 2i+1 and return node 2i+2. Linearizing an op
 * unlinks both of its events; backtracking relinks them. Because undo happens in exact reverse
 * order (a stack), the unlinked nodes' own pointers stay valid for relinking ("dancing links").
 */
class EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;

  constructor(m: CompiledKey) {
    const n = m.ops.length;
    const time = (node: number): number => {
      const o = m.ops[(node - 1) >> 1]!;
      // Unknown outcome: the op may take effect arbitrarily late, so it never returns.
      return isCall(node) ? o.call : (o.ret ?? Infinity);
    };
    const nodes = Array.from({ length: 2 * n }, (_, k) => k + 1);
    // Equal times: calls first. A precedes B only if A.ret < B.call, so an op called at the very
    // instant another returns is concurrent with it and must be a candidate before that return.
    nodes.sort((a, b) => {
      const ta = time(a);
      const tb = time(b);
      if (ta !== tb) return ta < tb ? -1 : 1;
      if (isCall(a) !== isCall(b)) return isCall(a) ? -1 : 1;
      return a - b;
    });
    this.next = new Int32Array(2 * n + 1).fill(NIL);
    this.prev = new Int32Array(2 * n + 1).fill(NIL);
    let last = HEAD;
    for (const node of nodes) {
      this.next[last] = node;
      this.prev[node] = last;
      last = node;
    }
  }

  /** Unlinks op i's call and return. */
  lift(i: number): void {
    this.unlink(2 * i + 1);
    this.unlink(2 * i + 2);
  }

  /** Undoes lift(i); must be called in reverse order of lifts. */
  unlift(i: number): void {
    this.relink(2 * i + 2);
    this.relink(2 * i + 1);
  }

  private unlink(node: number): void {
    const p = this.prev[node]!;
    const q = this.next[node]!;
    this.next[p] = q;
    if (q !== NIL) this.prev[q] = p;
  }

  private relink(node: number): void {
    const p = this.prev[node]!;
    const q = this.next[node]!;
    this.next[p] = node;
    if (q !== NIL) this.prev[q] = node;
  }
}

function isCall(node: number): boolean {
  return (node & 1) === 1;
}

/** The set of linearized ops, as a bitset that can be turned into a compact Map key. */
class OpSet {
  private readonly words: Uint16Array;

  constructor(n: number) {
    this.words = new Uint16Array((n + 15) >>> 4);
  }

  add(i: number): void {
    this.words[i >>> 4]! |= 1 << (i & 15);
  }

  remove(i: number): void {
    this.words[i >>> 4]! &= ~(1 << (i & 15));
  }

  has(i: number): boolean {
    return (this.words[i >>> 4]! & (1 << (i & 15))) !== 0;
  }

  /** 16 ops per UTF-16 code unit; the length is fixed per search, so appending the state is unambiguous. */
  keyWith(state: number): string {
    return String.fromCharCode.apply(null, this.words as unknown as number[]) + state;
  }
}

/**
 * Wing-Gong search with Lowe's memoization, for one key.
 *
 * Walk the event list from the head: every call before the first remaining return is a candidate
 * to linearize next. A candidate the model accepts is linearized (events unlinked, pushed on an
 * explicit stack) unless the resulting configuration was seen before: a configuration seen before
 * either failed or is an ancestor, so revisiting it is pointless. Reaching a return whose op is not
 * linearized means no candidate works: pop and try the next candidate after the popped one.
 *
 * Success as soon as the first remaining return belongs to an unknown-outcome op: those sort after
 * every completed op, so all completed ops are linearized and the leftover optional ops may be
 * considered never to have happened.
 */
export function searchKey(m: CompiledKey, maxSteps: number): SearchResult {
  return new Search(m).run(maxSteps);
}

class Search {
  private readonly list: EventList;
  private readonly linearized: OpSet;
  private readonly seen = new Set<string>();
  /** Triples: state before the op, op, pass it was found in. */
  private readonly stack: number[] = [];
  private state = ABSENT;
  /** 0: scanning completed ops only; 1: unknown-outcome ops only (see mayGoNext). */
  private pass = 0;
  private knownDone = 0;
  private bestKnown = -1;
  private best: readonly number[] = [];

  constructor(private readonly m: CompiledKey) {
    this.list = new EventList(m);
    this.linearized = new OpSet(m.ops.length);
  }

  run(maxSteps: number): SearchResult {
    const { m, list } = this;
    let node = list.next[HEAD]!;
    for (let steps = 1; node !== NIL; steps++) {
      if (steps > maxSteps) return { kind: 'budget', steps: maxSteps };
      const i = (node - 1) >> 1;
      if (isCall(node)) {
        node = this.tryLinearize(i) ? list.next[HEAD]! : list.next[node]!;
      } else if (m.known[i] === 0) {
        return { kind: 'linearizable' };
      } else if (this.pass === 0) {
        this.pass = 1;
        node = list.next[HEAD]!;
      } else if (this.stack.length > 0) {
        node = list.next[2 * this.backtrack() + 1]!;
      } else {
        return { kind: 'violation', longestPrefix: this.best };
      }
    }
    return { kind: 'linearizable' }; // the list emptied: every op was linearized
  }

  /** Linearizes op i next if allowed and new; returns whether it did. */
  private tryLinearize(i: number): boolean {
    if (!this.mayGoNext(i)) return false;
    const next = step(this.m, this.state, i);
    if (next === NO_MOVE) return false;
    const { linearized, stack } = this;
    linearized.add(i);
    // The restriction in mayGoNext depends on the last op, so it is part of the configuration.
    const key = linearized.keyWith(next) + (this.m.known[i] === 0 ? `*${this.state}` : '');
    if (this.seen.has(key)) {
      linearized.remove(i);
      return false;
    }
    this.seen.add(key);
    stack.push(this.state, i, this.pass);
    this.state = next;
    this.pass = 0;
    this.list.lift(i);
    this.knownDone += this.m.known[i]!;
    if (this.knownDone > this.bestKnown) {
      this.bestKnown = this.knownDone;
      this.best = prefixOf(stack);
    }
    return true;
  }

  /** Undoes the last linearization; returns the op it removed. */
  private backtrack(): number {
    const { stack } = this;
    this.pass = stack.pop()!;
    const j = stack.pop()!;
    this.state = stack.pop()!;
    this.linearized.remove(j);
    this.list.unlift(j);
    this.knownDone -= this.m.known[j]!;
    return j;
  }

  /**
   * Prunes candidates without losing any linearization. If some linearization exists, one exists
   * that uses as few unknown-outcome ops as possible and, among those, places them as late as
   * possible; it obeys every rule below, so searching only such orders is complete.
   *
   * - Pass order: completed ops are tried first, optional ones only when none of those works.
   *   Optional writes are rarely needed, and trying them eagerly leads into long dead ends.
   *   This affects speed only.
   * - Twins: optional ops with identical effect (same kind and abstract values, e.g. all puts of
   *   unobserved values) are interchangeable once called, so they are used in index order.
   * - After an optional op u, the next op must depend on u's effect: not a put (u could be left
   *   out: the put overwrites it), and not a read-only op (get, failed cas) that would also have
   *   fitted before u (the two could be swapped, moving u later).
   */
  private mayGoNext(i: number): boolean {
    const m = this.m;
    if (m.known[i] !== 1 - this.pass) return false;
    const twin = m.twin[i]!;
    if (twin !== NO_TWIN && !this.linearized.has(twin)) return false;
    const { stack } = this;
    if (stack.length === 0 || m.known[stack[stack.length - 2]!] === 1) return true;
    if (m.kind[i] === PUT) return false;
    const readOnly = m.kind[i] === GET || (m.known[i] === 1 && m.casOk[i] === 0);
    return !readOnly || step(m, stack[stack.length - 3]!, i) === NO_MOVE;
  }
}

function prefixOf(stack: readonly number[]): number[] {
  const ops: number[] = [];
  for (let k = 1; k < stack.length; k += 3) ops.push(stack[k]!);
  return ops;
}
