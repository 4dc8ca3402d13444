import type { CompiledKey } from './model.js';

const CHUNK = 4096; // code units per String.fromCharCode call: stay below argument-count limits

/**
 * The set of linearized ops of one search, with a compact, exact cache key.
 *
 * A plain bitset key would cost O(n) per configuration, making long histories quadratic. But the
 * set has structure: let `open` be the first completed op (in call order) not yet linearized.
 * Every completed op before it is linearized, and no op called after `open` returned can be
 * (`open` is still pending, so the search never got past its return). So the set is determined by
 * `open`, the bits of the ops in [open, reach(open)] (about the concurrency level), and which
 * unknown-outcome ops are in, which is what the key encodes.
 */
export class LinearizedSet {
  private readonly bits: Uint16Array;
  private readonly optionalBits: Uint16Array;
  /** Unknown-outcome op i: its rank among those ops; otherwise -1. */
  private readonly optionalRank: Int32Array;
  /** Completed op i: the last op index whose call is not after i's return. */
  private readonly reach: Int32Array;
  private open = 0;

  constructor(private readonly m: CompiledKey) {
    const n = m.ops.length;
    this.bits = new Uint16Array((n + 15) >>> 4);
    this.optionalRank = new Int32Array(n).fill(-1);
    let optional = 0;
    for (let i = 0; i < n; i++) if (m.known[i] === 0) this.optionalRank[i] = optional++;
    this.optionalBits = new Uint16Array((optional + 15) >>> 4);
    this.reach = new Int32Array(n);
    for (let i = 0; i < n; i++) this.reach[i] = lastCalledBy(m, m.ops[i]!.ret ?? Infinity);
    this.open = this.nextOpen(0);
  }

  has(i: number): boolean {
    return (this.bits[i >>> 4]! & (1 << (i & 15))) !== 0;
  }

  add(i: number): void {
    this.bits[i >>> 4]! |= 1 << (i & 15);
    const rank = this.optionalRank[i]!;
    if (rank >= 0) this.optionalBits[rank >>> 4]! |= 1 << (rank & 15);
    else if (i === this.open) this.open = this.nextOpen(i + 1);
  }

  remove(i: number): void {
    this.bits[i >>> 4]! &= ~(1 << (i & 15));
    const rank = this.optionalRank[i]!;
    if (rank >= 0) this.optionalBits[rank >>> 4]! &= ~(1 << (rank & 15));
    else if (i < this.open) this.open = i;
  }

  /** An exact key for (this set, state): the parts have lengths fixed by `open`, so it is unambiguous. */
  keyWith(state: number): string {
    const open = this.open;
    let key = String.fromCharCode(open & 0xffff, open >>> 16);
    if (open < this.m.ops.length) key += codeUnits(this.bits.subarray(open >>> 4, (this.reach[open]! >>> 4) + 1));
    return key + codeUnits(this.optionalBits) + state;
  }

  private nextOpen(from: number): number {
    const { m } = this;
    let i = from;
    while (i < m.ops.length && (m.known[i] === 0 || this.has(i))) i++;
    return i;
  }
}

/** The last op index whose call is at or before `time` (ops are sorted by call). */
function lastCalledBy(m: CompiledKey, time: number): number {
  let lo = 0;
  let hi = m.ops.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (m.ops[mid]!.call <= time) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The words as a string, one code unit each. Exported for tests. */
export function codeUnits(words: Uint16Array): string {
  if (words.length <= CHUNK) return String.fromCharCode.apply(null, words as unknown as number[]);
  let s = '';
  for (let k = 0; k < words.length; k += CHUNK) s += String.fromCharCode.apply(null, words.subarray(k, k + CHUNK) as unknown as number[]);
  return s;
}
