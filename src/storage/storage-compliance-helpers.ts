import { expect } from 'vitest';
import type { ConfState, Entry, HardState, Snapshot, Storage } from '../raft/index.js';

/** What the compliance suite drives: a Storage plus its write side, awaited so durable and in-memory implementations look alike. */
export interface StorageUnderTest {
  readonly storage: Storage;
  append(entries: readonly Entry[]): Promise<void>;
  setHardState(hs: HardState): Promise<void>;
  bootstrap(cs: ConfState): Promise<void>;
  applySnapshot(snap: Snapshot): Promise<void>;
  createSnapshot(index: number, cs: ConfState, data: Uint8Array): Promise<Snapshot>;
  compact(index: number): Promise<void>;
  /** Closes and reopens from disk; null for in-memory implementations. */
  readonly reopen: (() => Promise<StorageUnderTest>) | null;
  close(): Promise<void>;
}

export type StorageFactory = () => Promise<StorageUnderTest>;

export const cs: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
export const payload = (index: number, term: number): Uint8Array =>
  Uint8Array.from({ length: 16 + ((index * 37) % 200) }, (_, i) => (index * 31 + term * 7 + i) & 0xff);
export const ent = (index: number, term: number): Entry => ({ kind: 'normal', index, term, data: payload(index, term) });
export const ents = (...pairs: [number, number][]): Entry[] => pairs.map(([i, t]) => ent(i, t));
export const all = Number.MAX_SAFE_INTEGER;

/** A storage whose log is a snapshot at 3 (term 3) then entries 4, 5 (and 6) at their index as term. */
export async function withLog(factory: StorageFactory, last = 5): Promise<StorageUnderTest> {
  const u = await factory();
  await u.applySnapshot({ metadata: { index: 3, term: 3, confState: cs }, data: Uint8Array.of(3) });
  const tail: Entry[] = [];
  for (let i = 4; i <= last; i++) tail.push(ent(i, i));
  await u.append(tail);
  return u;
}

/** Runs `check` on the storage, then again after a reopen if the implementation has one. */
export async function andAfterReopen(u: StorageUnderTest, check: (s: Storage) => void): Promise<StorageUnderTest> {
  check(u.storage);
  if (u.reopen === null) return u;
  const reopened = await u.reopen();
  check(reopened.storage);
  return reopened;
}

export function expectCode(f: () => unknown, code: string): void {
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected an error with code ${code}`).toMatchObject({ code });
}

/** The log as (index, term) pairs, each entry's payload checked against what was written. */
export function logOf(s: Storage): [number, number][] {
  if (s.lastIndex() < s.firstIndex()) return [];
  return s.entries(s.firstIndex(), s.lastIndex() + 1, all).map((e) => {
    if (e.kind === 'normal') expect(Array.from(e.data), `payload of entry ${e.index}`).toEqual(Array.from(payload(e.index, e.term)));
    return [e.index, e.term];
  });
}

export async function done(u: StorageUnderTest): Promise<void> {
  await u.close();
}
