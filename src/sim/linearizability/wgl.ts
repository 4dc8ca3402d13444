import { ABSENT, NO_MOVE, NO_TWIN, PUT, step, type CompiledKey } from './model.js';
import { LinearizedSet } from './opset.js';

export type SearchResult =
  | { readonly kind: 'linearizable' }
  /** `longestPrefix`: op indices (into CompiledKey.ops) of the longest linearizable prefix seen. */
  | { readonly kind: 'violation'; readonly longestPrefix: readonly number[] }
  | { readonly kind: 'budget'; readonly steps: number };

const NIL = -1;
const HEAD = 0;

/**
 * The completed ops as a doubly linked list of call and return events in time order (Wing &
 * Gong). Node 0 is the head sentinel; op i has call node 2i+1 and return node 2i+2. Linearizing an
 * op unlinks both of its events; backtracking relinks them. Because undo happens in exact reverse
 * order (a stack), the unlinked nodes' own pointers stay valid for relinking ("dancing links").
 */
class EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;

  constructor(m: CompiledKey) {
    const n = m.ops.length;
    const time = (node: number): number => {
      const o = m.ops[opOf(node)]!;
      return isCall(node) ? o.call : o.ret!; // only completed ops are listed
    };
    const nodes: number[] = [];
    for (let i = 0; i < n; i++) if (m.known[i] === 1) nodes.push(2 * i + 1, 2 * i + 2);
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
    unlink(this.next, this.prev, 2 * i + 1);
    unlink(this.next, this.prev, 2 * i + 2);
  }

  /** Undoes lift(i); must be called in reverse order of lifts. */
  unlift(i: number): void {
    relink(this.next, this.prev, 2 * i + 2);
    relink(this.next, this.prev, 2 * i + 1);
  }
}

/**
 * The unknown-outcome ops not yet linearized, in call order. They have no return event: each
 * may take effect at any time after its call, so it stays a candidate for the rest of the search.
 * Keeping them out of the EventList spares the main scan from stepping over them every time.
 * Node 0 is the head sentinel; op i is node i+1.
 */
class OptionalList {
  readonly next: Int32Array;
  readonly prev: Int32Array;

  constructor(m: CompiledKey) {
    const n = m.ops.length;
    this.next = new Int32Array(n + 1).fill(NIL);
    this.prev = new Int32Array(n + 1).fill(NIL);
    let last = HEAD;
    for (let i = 0; i < n; i++) {
      if (m.known[i] === 1) continue; // ops are in call order already
      this.next[last] = i + 1;
      this.prev[i + 1] = last;
      last = i + 1;
    }
  }

  lift(i: number): void {
    unlink(this.next, this.prev, i + 1);
  }

  unlift(i: number): void {
    relink(this.next, this.prev, i + 1);
  }
}

function unlink(next: Int32Array, prev: Int32Array, node: number): void {
  const p = prev[node]!;
  const q = next[node]!;
  next[p] = q;
  if (q !== NIL) prev[q] = p;
}

function relink(next: Int32Array, prev: Int32Array, node: number): void {
  const p = prev[node]!;
  const q = next[node]!;
  next[p] = node;
  if (q !== NIL) prev[q] = node;
}

function isCall(node: number): boolean {
  return (node & 1) === 1;
}

function opOf(node: number): number {
  return (node - 1) >> 1;
}

/**
 * Wing-Gong search with Lowe's memoization, for one key.
 *
 * The candidates to linearize next are the completed ops whose call comes before the first
 * remaining return event (the "deadline"), and the unknown-outcome ops called by the deadline.
 * A candidate the model accepts is linearized (unlinked, pushed on an explicit stack) unless the
 * resulting configuration was seen before: a configuration seen before either failed or is an
 * ancestor, so revisiting it is pointless. When no candidate works, pop and resume the scan after
 * the popped op. Success when every completed op is linearized: leftover unknown-outcome ops are
 * taken never to have happened.
 *
 * Candidates are scanned in three phases (see Phase); the pruning rules are in mayGoNext.
 */
export function searchKey(m: CompiledKey, maxSteps: number): SearchResult {
  return new Search(m).run(maxSteps);
}

/**
 * READS: a completed read-only op (get, failed cas) that fits now is linearized at once, with no
 *   alternatives tried: it leaves the state alone and every other candidate stays a candidate, so
 *   any linearization can be rearranged to start with it. This removes most of the branching
 *   among concurrent reads.
 * WRITES: otherwise each completed put and successful cas is tried in turn.
 * OPTIONAL: only then unknown-outcome ops: optional writes are rarely needed, and trying them
 *   eagerly leads into long dead ends. This order affects speed, not the verdict.
 */
const enum Phase {
  READS,
  WRITES,
  OPTIONAL,
}

const enum Outcome {
  PUSHED,
  NO_MOVE,
  SEEN,
}

class Search {
  private readonly events: EventList;
  private readonly optional: OptionalList;
  private readonly linearized: LinearizedSet;
  private readonly seen = new Set<string>();
  // The stack, as parallel arrays: op, state before it, deadline when chosen, chosen in READS.
  private readonly stackOp: number[] = [];
  private readonly stackState: number[] = [];
  private readonly stackDeadline: number[] = [];
  private readonly stackForced: boolean[] = [];
  private state = ABSENT;
  private knownDone = 0;
  private bestKnown = -1;
  private best: readonly number[] = [];
  private bestIsStack = false;
  // Scan cursors: `node` walks the event list up to its first return (whose time becomes the
  // deadline), `opt` walks the optional list.
  private phase = Phase.READS;
  private node = NIL;
  private opt = NIL;
  private deadline = 0;

  constructor(private readonly m: CompiledKey) {
    this.events = new EventList(m);
    this.optional = new OptionalList(m);
    this.linearized = new LinearizedSet(m);
  }

  /** One step = one candidate considered (or one scan phase ended). */
  run(maxSteps: number): SearchResult {
    this.restartScan();
    if (this.node === NIL) return { kind: 'linearizable' };
    for (let steps = 1; ; steps++) {
      if (steps > maxSteps) return { kind: 'budget', steps: maxSteps };
      let dead: boolean;
      if (this.phase === Phase.READS) dead = this.stepReads();
      else if (this.phase === Phase.WRITES) dead = this.stepWrites();
      else dead = this.stepOptional();
      if (dead && !this.backtrack()) return { kind: 'violation', longestPrefix: this.best };
      if (this.node === NIL && this.phase === Phase.READS) return { kind: 'linearizable' }; // no completed op left
    }
  }

  private restartScan(): void {
    this.phase = Phase.READS;
    this.node = this.events.next[HEAD]!;
  }

  /** Returns true if the current configuration is dead. */
  private stepReads(): boolean {
    const node = this.node;
    if (!isCall(node)) {
      this.phase = Phase.WRITES;
      this.node = this.events.next[HEAD]!;
      return false;
    }
    const i = opOf(node);
    const outcome = this.m.readOnly[i] === 1 ? this.tryLinearize(i, true) : Outcome.NO_MOVE;
    if (outcome === Outcome.SEEN) return true; // the forced move leads to a known failure
    if (outcome === Outcome.PUSHED) this.restartScan();
    else this.node = this.events.next[node]!;
    return false;
  }

  private stepWrites(): boolean {
    const node = this.node;
    if (!isCall(node)) {
      this.deadline = this.m.ops[opOf(node)]!.ret!;
      this.phase = Phase.OPTIONAL;
      this.opt = this.optional.next[HEAD]!;
      return false;
    }
    const i = opOf(node);
    if (this.m.readOnly[i] === 0 && this.tryLinearize(i, false) === Outcome.PUSHED) this.restartScan();
    else this.node = this.events.next[node]!;
    return false;
  }

  private stepOptional(): boolean {
    const opt = this.opt;
    if (opt === NIL || this.m.ops[opt - 1]!.call > this.deadline) return true;
    if (this.tryLinearize(opt - 1, false) === Outcome.PUSHED) this.restartScan();
    else this.opt = this.optional.next[opt]!;
    return false;
  }

  /** Linearizes op i next if allowed, legal and new. */
  private tryLinearize(i: number, forced: boolean): Outcome {
    if (!this.mayGoNext(i)) return Outcome.NO_MOVE;
    const m = this.m;
    const next = step(m, this.state, i);
    if (next === NO_MOVE) return Outcome.NO_MOVE;
    const { linearized } = this;
    linearized.add(i);
    // mayGoNext's restriction depends on the last op, so it is part of the configuration.
    const key = linearized.keyWith(next) + (m.known[i] === 0 ? `*${this.state}` : '');
    if (this.seen.has(key)) {
      linearized.remove(i);
      return Outcome.SEEN;
    }
    this.seen.add(key);
    this.stackOp.push(i);
    this.stackState.push(this.state);
    this.stackDeadline.push(this.deadline);
    this.stackForced.push(forced);
    this.state = next;
    if (m.known[i] === 1) {
      this.events.lift(i);
      this.knownDone++;
      if (this.knownDone > this.bestKnown) {
        this.bestKnown = this.knownDone;
        this.bestIsStack = true;
      }
    } else {
      this.optional.lift(i);
    }
    return Outcome.PUSHED;
  }

  /**
   * Undoes linearizations until one can be replaced by a later candidate, and resumes the scan
   * just after it. A forced read that failed dooms the configuration it was forced in, so undo
   * the step into that configuration too. Returns false when there is nothing left to undo.
   */
  private backtrack(): boolean {
    if (this.bestIsStack) {
      // Copy the best prefix only when about to lose it: a search that never backtracks (the
      // common, linearizable case) then never copies, keeping long histories linear-time.
      this.best = [...this.stackOp];
      this.bestIsStack = false;
    }
    for (;;) {
      const j = this.stackOp.pop();
      if (j === undefined) return false;
      this.state = this.stackState.pop()!;
      this.deadline = this.stackDeadline.pop()!;
      const forced = this.stackForced.pop()!;
      this.linearized.remove(j);
      if (this.m.known[j] === 1) {
        this.events.unlift(j);
        this.knownDone--;
        if (forced) continue;
        this.phase = Phase.WRITES;
        this.node = this.events.next[2 * j + 1]!;
      } else {
        this.optional.unlift(j);
        this.phase = Phase.OPTIONAL;
        this.opt = this.optional.next[j + 1]!;
      }
      return true;
    }
  }

  /**
   * Prunes candidates without losing any linearization. If some linearization exists, take one
   * that uses as few unknown-outcome ops as possible, then places them as late as possible, then
   * places reads as early as possible: each rule below (and the READS phase) could otherwise be
   * used to improve it, so it obeys them all, and searching only such orders is complete.
   *
   * - Twins: optional ops with identical effect (same kind and abstract values, e.g. all puts of
   *   unobserved values) are interchangeable once called, so they are used in index order.
   * - After an optional op u, the next op must depend on u's effect: not a put (u could be left
   *   out: the put overwrites it), and not a read-only op (get, failed cas) that would also have
   *   fitted before u (the two could be swapped, moving u later).
   */
  private mayGoNext(i: number): boolean {
    const m = this.m;
    const twin = m.twin[i]!;
    if (twin !== NO_TWIN && !this.linearized.has(twin)) return false;
    const top = this.stackOp.length - 1;
    if (top < 0 || m.known[this.stackOp[top]!] === 1) return true;
    if (m.kind[i] === PUT) return false;
    return m.readOnly[i] === 0 || step(m, this.stackState[top]!, i) === NO_MOVE;
  }
}
