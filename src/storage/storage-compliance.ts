import { describe, expect, it } from 'vitest';
import { entrySize, type ConfState, type Entry, type HardState, type Snapshot, type Storage } from '../raft/index.js';

/**
 * One compliance suite for every implementation of the Raft core's Storage (as js-libp2p runs
 * one suite per interface): written from the interface's contract and MemoryStorage's documented
 * write semantics, not from either implementation. Writes are awaited so durable and in-memory
 * implementations share the same tests; every check runs again after a reopen where there is one.
 */
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

const cs: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
const payload = (index: number, term: number): Uint8Array => Uint8Array.from({ length: 16 + ((index * 37) % 200) }, (_, i) => (index * 31 + term * 7 + i) & 0xff);
const ent = (index: number, term: number): Entry => ({ kind: 'normal', index, term, data: payload(index, term) });
const ents = (...pairs: [number, number][]): Entry[] => pairs.map(([i, t]) => ent(i, t));
const all = Number.MAX_SAFE_INTEGER;

/** A storage whose log is a snapshot at 3 (term 3) then entries 4, 5 (and 6) at their index as term. */
async function withLog(factory: StorageFactory, last = 5): Promise<StorageUnderTest> {
  const u = await factory();
  await u.applySnapshot({ metadata: { index: 3, term: 3, confState: cs }, data: Uint8Array.of(3) });
  const tail: Entry[] = [];
  for (let i = 4; i <= last; i++) tail.push(ent(i, i));
  await u.append(tail);
  return u;
}

/** Runs `check` on the storage, then again after a reopen if the implementation has one. */
async function andAfterReopen(u: StorageUnderTest, check: (s: Storage) => void): Promise<StorageUnderTest> {
  check(u.storage);
  if (u.reopen === null) return u;
  const reopened = await u.reopen();
  check(reopened.storage);
  return reopened;
}

function expectCode(f: () => unknown, code: string): void {
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected an error with code ${code}`).toMatchObject({ code });
}

/** The log as (index, term) pairs, each entry's payload checked against what was written. */
function logOf(s: Storage): [number, number][] {
  if (s.lastIndex() < s.firstIndex()) return [];
  return s.entries(s.firstIndex(), s.lastIndex() + 1, all).map((e) => {
    if (e.kind === 'normal') expect(Array.from(e.data), `payload of entry ${e.index}`).toEqual(Array.from(payload(e.index, e.term)));
    return [e.index, e.term];
  });
}

async function done(u: StorageUnderTest): Promise<void> {
  await u.close();
}

export function storageComplianceTests(name: string, factory: StorageFactory): void {
  describe(`Storage compliance: ${name}`, () => {
    it('starts empty: first index 1, last index 0, term(0) = 0, empty hard state and snapshot', async () => {
      const u = await andAfterReopen(await factory(), (s) => {
        expect([s.firstIndex(), s.lastIndex(), s.term(0)]).toEqual([1, 0, 0]);
        expect(s.initialState()).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, confState: { voters: [], learners: [] } });
        expect(s.snapshot().metadata).toEqual({ index: 0, term: 0, confState: { voters: [], learners: [] } });
        expect(s.snapshot().data.length).toBe(0);
        expect(s.entries(1, 1, all)).toEqual([]);
        expectCode(() => s.term(1), 'UNAVAILABLE');
        expectCode(() => s.entries(1, 2, all), 'UNAVAILABLE');
      });
      await done(u);
    });

    it('term(i): the compaction point and every entry; COMPACTED before, UNAVAILABLE after', async () => {
      const u = await andAfterReopen(await withLog(factory), (s) => {
        expectCode(() => s.term(2), 'COMPACTED');
        expect([3, 4, 5].map((i) => s.term(i))).toEqual([3, 4, 5]);
        expectCode(() => s.term(6), 'UNAVAILABLE');
        expect([s.firstIndex(), s.lastIndex()]).toEqual([4, 5]);
      });
      await done(u);
    });

    it('entries(lo, hi): [lo, hi) with payloads intact; COMPACTED below firstIndex, UNAVAILABLE past lastIndex + 1', async () => {
      const u = await andAfterReopen(await withLog(factory, 6), (s) => {
        expectCode(() => s.entries(2, 6, all), 'COMPACTED');
        expectCode(() => s.entries(3, 4, all), 'COMPACTED');
        expect(s.entries(4, 5, all).map((e) => e.index)).toEqual([4]);
        expect(logOf(s)).toEqual([[4, 4], [5, 5], [6, 6]]);
        expect(s.entries(5, 5, all)).toEqual([]);
        expect(s.entries(7, 7, all)).toEqual([]);
        expectCode(() => s.entries(4, 8, all), 'UNAVAILABLE');
      });
      await done(u);
    });

    it('entries(lo, hi, maxBytes): the longest prefix within maxBytes, but always at least one entry', async () => {
      const u = await andAfterReopen(await withLog(factory, 6), (s) => {
        const [e4, e5, e6] = [4, 5, 6].map((i) => entrySize(ent(i, i)));
        const indexes = (maxBytes: number): number[] => s.entries(4, 7, maxBytes).map((e) => e.index);
        expect(indexes(0)).toEqual([4]);
        expect(indexes(e4! - 1)).toEqual([4]);
        expect(indexes(e4! + e5!)).toEqual([4, 5]);
        expect(indexes(e4! + e5! + e6! / 2)).toEqual([4, 5]);
        expect(indexes(e4! + e5! + e6! - 1)).toEqual([4, 5]);
        expect(indexes(e4! + e5! + e6!)).toEqual([4, 5, 6]);
      });
      await done(u);
    });

    describe('append', () => {
      const cases: { name: string; append: [number, number][]; log: [number, number][] }[] = [
        { name: 'the same entries again change nothing', append: [[3, 3], [4, 4], [5, 5]], log: [[4, 4], [5, 5]] },
        { name: 'a conflicting suffix is replaced', append: [[3, 3], [4, 6], [5, 6]], log: [[4, 6], [5, 6]] },
        { name: 'entries past the end are added', append: [[3, 3], [4, 4], [5, 5], [6, 5]], log: [[4, 4], [5, 5], [6, 5]] },
        { name: 'compacted entries are dropped, the rest replaces the suffix', append: [[2, 3], [3, 3], [4, 5]], log: [[4, 5]] },
        { name: 'a shorter conflicting append truncates everything after it', append: [[4, 5]], log: [[4, 5]] },
        { name: 'an append right after the end extends the log', append: [[6, 5]], log: [[4, 4], [5, 5], [6, 5]] },
        { name: 'entirely compacted entries are ignored', append: [[2, 2], [3, 3]], log: [[4, 4], [5, 5]] },
      ];
      for (const c of cases) {
        it(c.name, async () => {
          const u = await withLog(factory);
          await u.append(ents(...c.append));
          await done(await andAfterReopen(u, (s) => expect(logOf(s)).toEqual(c.log)));
        });
      }

      it('refuses an append that leaves a gap, and keeps the log as it was', async () => {
        const u = await withLog(factory);
        await expect(u.append(ents([7, 5]))).rejects.toMatchObject({ code: 'INVARIANT' });
        await done(await andAfterReopen(u, (s) => expect(logOf(s)).toEqual([[4, 4], [5, 5]])));
      });

      it('appends after compaction, and truncates right after the compaction point', async () => {
        const u = await withLog(factory, 6);
        await u.createSnapshot(5, cs, Uint8Array.of(5));
        await u.compact(5);
        await u.append(ents([6, 7], [7, 7]));
        await u.append(ents([5, 5], [6, 8]));
        await done(await andAfterReopen(u, (s) => expect([s.firstIndex(), s.term(5), ...logOf(s).flat()]).toEqual([6, 5, 6, 8])));
      });
    });

    registerSnapshotTests(factory);
  });
}

function registerSnapshotTests(factory: StorageFactory): void {
  it('createSnapshot records index, term, membership and data; refuses older or future indexes', async () => {
    const u = await withLog(factory);
    const snap = await u.createSnapshot(4, cs, Uint8Array.of(9, 8, 7));
    expect(snap.metadata).toEqual({ index: 4, term: 4, confState: cs });
    await expect(u.createSnapshot(4, cs, Uint8Array.of(1))).rejects.toMatchObject({ code: 'SNAPSHOT_OUT_OF_DATE' });
    await expect(u.createSnapshot(6, cs, Uint8Array.of(1))).rejects.toMatchObject({ code: 'INVARIANT' });
    const done2 = await andAfterReopen(u, (s) => {
      expect(s.snapshot().metadata).toEqual({ index: 4, term: 4, confState: cs });
      expect(Array.from(s.snapshot().data)).toEqual([9, 8, 7]);
      expect(logOf(s)).toEqual([[4, 4], [5, 5]]); // creating a snapshot compacts nothing by itself
    });
    await done(done2);
  });

  it('applySnapshot replaces the whole log and the membership; refuses an older snapshot', async () => {
    const u = await withLog(factory);
    const learnerConf: ConfState = { voters: ['a'], learners: ['d'] };
    await u.applySnapshot({ metadata: { index: 10, term: 7, confState: learnerConf }, data: Uint8Array.of(10) });
    await expect(u.applySnapshot({ metadata: { index: 9, term: 7, confState: cs }, data: Uint8Array.of(9) })).rejects.toMatchObject({ code: 'SNAPSHOT_OUT_OF_DATE' });
    const v = await andAfterReopen(u, (s) => {
      expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 7]);
      expectCode(() => s.term(9), 'COMPACTED');
      expect(s.initialState().confState).toEqual(learnerConf);
      expect(s.snapshot().metadata.index).toBe(10);
      expect(Array.from(s.snapshot().data)).toEqual([10]);
    });
    await v.append(ents([11, 7], [12, 8]));
    await done(await andAfterReopen(v, (s) => expect(logOf(s)).toEqual([[11, 7], [12, 8]])));
  });

  it('compact(i) discards entries through i, keeps the term of i; COMPACTED at or before the compaction point', async () => {
    const u = await withLog(factory, 6);
    await u.createSnapshot(6, cs, Uint8Array.of(6));
    await expect(u.compact(2)).rejects.toMatchObject({ code: 'COMPACTED' });
    await expect(u.compact(3)).rejects.toMatchObject({ code: 'COMPACTED' });
    await u.compact(4);
    const v = await andAfterReopen(u, (s) => {
      expect([s.firstIndex(), s.lastIndex(), s.term(4)]).toEqual([5, 6, 4]);
      expectCode(() => s.entries(4, 5, all), 'COMPACTED');
      expect(logOf(s)).toEqual([[5, 5], [6, 6]]);
    });
    await expect(v.compact(7)).rejects.toMatchObject({ code: 'INVARIANT' });
    await v.compact(6);
    await done(await andAfterReopen(v, (s) => expect([s.firstIndex(), s.lastIndex(), s.term(6), logOf(s).length]).toEqual([7, 6, 6, 0])));
  });

  it('bootstrap writes the membership as committed entries at term 1; refuses a non-empty storage', async () => {
    const u = await factory();
    await u.bootstrap({ voters: ['b', 'a'], learners: ['c'] });
    await expect(u.bootstrap(cs)).rejects.toMatchObject({ code: 'INVARIANT' });
    await done(
      await andAfterReopen(u, (s) => {
        expect(s.initialState().hardState).toEqual({ term: 1, vote: null, commit: 3 });
        expect(s.entries(1, 4, all)).toEqual([
          { kind: 'confChange', index: 1, term: 1, change: { type: 'addVoter', node: 'a' } },
          { kind: 'confChange', index: 2, term: 1, change: { type: 'addVoter', node: 'b' } },
          { kind: 'confChange', index: 3, term: 1, change: { type: 'addLearner', node: 'c' } },
        ]);
      }),
    );
  });

  it('keeps the latest hard state', async () => {
    const u = await withLog(factory);
    await u.setHardState({ term: 5, vote: 'b', commit: 4 });
    await u.setHardState({ term: 6, vote: null, commit: 5 });
    await done(await andAfterReopen(u, (s) => expect(s.initialState().hardState).toEqual({ term: 6, vote: null, commit: 5 })));
  });

  it('a long log with overwrites reads back exactly, in any window and size limit', async () => {
    const u = await factory();
    const model: Entry[] = [];
    for (let round = 0; round < 40; round++) {
      const from = Math.max(1, model.length + 1 - (round % 7 === 6 ? 5 : 0));
      const batch = Array.from({ length: 1 + (round % 5) * 7 }, (_, k) => ent(from + k, 1 + round));
      await u.append(batch);
      model.length = from - 1;
      model.push(...batch);
    }
    await done(
      await andAfterReopen(u, (s) => {
        expect(logOf(s)).toEqual(model.map((e) => [e.index, e.term]));
        for (let lo = 1; lo < model.length; lo += 13) {
          const limit = 900 + lo * 10;
          let bytes = 0;
          const expected = model.slice(lo - 1).filter((e, k) => (bytes += entrySize(e)) <= limit || k === 0);
          expect(s.entries(lo, model.length + 1, limit).map((e) => e.index)).toEqual(expected.map((e) => e.index));
        }
      }),
    );
  });
}
