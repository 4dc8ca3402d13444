import { describe, expect, it } from 'vitest';
import { entrySize, type Entry } from '../raft/index.js';
import { EntryCache } from './entry-cache.js';
import { EntryIndex } from './entry-index.js';
import { locationEntrySize } from './entry-reader.js';
import { encodeRecord } from './wal/records.js';

const placement = (index: number, term: number) => ({ index, term, kind: 'normal' as const, offset: index * 100, length: 40, crc: index });
const normal = (index: number, bytes: number): Entry => ({ kind: 'normal', index, term: 1, data: new Uint8Array(bytes) });

describe('EntryIndex', () => {
  it('pushes, truncates a suffix, drops a prefix, and keeps working across many growths', () => {
    const idx = new EntryIndex();
    idx.reset(10);
    for (let i = 11; i <= 5000; i++) idx.push(1 + (i % 3), placement(i, 1 + Math.floor(i / 1000)));
    expect([idx.size(), idx.lastIndex(), idx.term(4999), idx.get(4000).offset]).toEqual([4990, 5000, 5, 400_000]);
    idx.truncateFrom(3001);
    expect(idx.lastIndex()).toBe(3000);
    idx.dropThrough(2000);
    expect([idx.has(2000), idx.has(2001), idx.size()]).toEqual([false, true, 1000]);
    for (let i = 3001; i <= 9000; i++) idx.push(7, placement(i, 9));
    expect([idx.get(2001).term, idx.get(9000).segmentSeq, idx.size()]).toEqual([3, 7, 7000]);
    idx.dropThrough(9000);
    expect([idx.size(), idx.lastIndex()]).toEqual([0, 9000]);
    expect(() => idx.push(1, placement(9002, 9))).toThrow(/pushing 9002 after 9000/);
  });
});

describe('locationEntrySize', () => {
  it('equals the core entrySize for both kinds of entry, from the index alone', () => {
    const entries: Entry[] = [
      normal(1, 0),
      normal(2, 1000),
      { kind: 'confChange', index: 3, term: 1, change: { type: 'addLearner', node: 'a-long-node-name' } },
    ];
    const [placements] = [encodeRecord({ type: 'entries', entries }).placements];
    placements.forEach((p, i) => expect(locationEntrySize({ ...p, segmentSeq: 1 })).toBe(entrySize(entries[i]!)));
  });
});

describe('EntryCache', () => {
  it('stays within its byte bound, evicting the oldest first, and never serves a stale term', () => {
    const cache = new EntryCache(3 * entrySize(normal(1, 1000)));
    for (let i = 1; i <= 4; i++) cache.put(normal(i, 1000));
    expect([1, 2, 3, 4].map((i) => cache.get(i, 1) !== undefined)).toEqual([false, true, true, true]);
    expect(cache.byteSize()).toBe(3 * entrySize(normal(1, 1000)));
    expect(cache.get(4, 2)).toBeUndefined();
    cache.deleteFrom(3);
    expect([cache.get(2, 1) !== undefined, cache.get(3, 1), cache.get(4, 1)]).toEqual([true, undefined, undefined]);
  });

  it('does not keep deleted entries alive through its eviction order', () => {
    const cache = new EntryCache(1 << 30);
    for (let round = 0; round < 50; round++) {
      for (let i = 1; i <= 100; i++) cache.put(normal(i, 10));
      cache.deleteFrom(1);
    }
    expect(cache.byteSize()).toBe(0);
    expect((cache as unknown as { order: Entry[] }).order.length).toBeLessThan(2000);
  });
});
