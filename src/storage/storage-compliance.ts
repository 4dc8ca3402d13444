import { describe, expect, it } from 'vitest';
import { entrySize } from '../raft/index.js';
import { registerWriteTests } from './storage-compliance-writes.js';
import { all, andAfterReopen, done, ent, expectCode, logOf, withLog, type StorageFactory } from './storage-compliance-helpers.js';

export type { StorageFactory, StorageUnderTest } from './storage-compliance-helpers.js';

/**
 * One compliance suite for every implementation of the Raft core's Storage (as js-libp2p runs
 * one suite per interface): written from the interface's contract and MemoryStorage's documented
 * write semantics, not from either implementation. Writes are awaited so durable and in-memory
 * implementations share the same tests; every check runs again after a reopen where there is one.
 */
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
        expect(logOf(s)).toEqual([
          [4, 4],
          [5, 5],
          [6, 6],
        ]);
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

    registerWriteTests(factory);
  });
}
