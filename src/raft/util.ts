import type { Entry } from './types.js';
import { entrySize } from './types.js';

/** The longest prefix of `entries` within `maxBytes`, but always at least one entry. */
export function limitSize<T extends Entry>(entries: T[], maxBytes: number): T[] {
  if (entries.length === 0) return entries;
  let size = entrySize(entries[0]!);
  let n = 1;
  while (n < entries.length) {
    size += entrySize(entries[n]!);
    if (size > maxBytes) break;
    n++;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/** Median-style quorum: the highest value a majority of `values` has reached. */
export function quorumValue(values: readonly number[]): number {
  if (values.length === 0) return Number.MAX_SAFE_INTEGER; // An empty config commits everything (never used).
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[Math.floor(sorted.length / 2)]!;
}
