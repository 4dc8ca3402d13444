import { describe, expect, it } from 'vitest';
import { entrySize, type ConfState, type Entry } from '../raft/index.js';
import { all, andAfterReopen, cs, done, ent, ents, expectCode, logOf, withLog, type StorageFactory } from './storage-compliance-helpers.js';

/** The compliance suite's write side: append semantics, snapshots, compaction, bootstrap, hard state. */
export function registerWriteTests(factory: StorageFactory): void {
  describe('append', () => {
    const cases: { name: string; append: [number, number][]; log: [number, number][] }[] = [
      {
        name: 'the same entries again change nothing',
        append: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
        log: [
          [4, 4],
          [5, 5],
        ],
      },
      {
        name: 'a conflicting suffix is replaced',
        append: [
          [3, 3],
          [4, 6],
          [5, 6],
        ],
        log: [
          [4, 6],
          [5, 6],
        ],
      },
      {
        name: 'entries past the end are added',
        append: [
          [3, 3],
          [4, 4],
          [5, 5],
          [6, 5],
        ],
        log: [
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      },
      {
        name: 'compacted entries are dropped, the rest replaces the suffix',
        append: [
          [2, 3],
          [3, 3],
          [4, 5],
        ],
        log: [[4, 5]],
      },
      { name: 'a shorter conflicting append truncates everything after it', append: [[4, 5]], log: [[4, 5]] },
      {
        name: 'an append right after the end extends the log',
        append: [[6, 5]],
        log: [
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      },
      {
        name: 'entirely compacted entries are ignored',
        append: [
          [2, 2],
          [3, 3],
        ],
        log: [
          [4, 4],
          [5, 5],
        ],
      },
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
      await done(
        await andAfterReopen(u, (s) =>
          expect(logOf(s)).toEqual([
            [4, 4],
            [5, 5],
          ]),
        ),
      );
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
      expect(logOf(s)).toEqual([
        [4, 4],
        [5, 5],
      ]); // creating a snapshot compacts nothing by itself
    });
    await done(done2);
  });

  it('applySnapshot replaces the whole log and the membership; refuses an older snapshot', async () => {
    const u = await withLog(factory);
    const learnerConf: ConfState = { voters: ['a'], learners: ['d'] };
    await u.applySnapshot({ metadata: { index: 10, term: 7, confState: learnerConf }, data: Uint8Array.of(10) });
    await expect(u.applySnapshot({ metadata: { index: 9, term: 7, confState: cs }, data: Uint8Array.of(9) })).rejects.toMatchObject({
      code: 'SNAPSHOT_OUT_OF_DATE',
    });
    const v = await andAfterReopen(u, (s) => {
      expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 7]);
      expectCode(() => s.term(9), 'COMPACTED');
      expect(s.initialState().confState).toEqual(learnerConf);
      expect(s.snapshot().metadata.index).toBe(10);
      expect(Array.from(s.snapshot().data)).toEqual([10]);
    });
    await v.append(ents([11, 7], [12, 8]));
    await done(
      await andAfterReopen(v, (s) =>
        expect(logOf(s)).toEqual([
          [11, 7],
          [12, 8],
        ]),
      ),
    );
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
      expect(logOf(s)).toEqual([
        [5, 5],
        [6, 6],
      ]);
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
