import { describe, expect, it } from 'vitest';
import type { Entry } from '../raft/index.js';
import { EntryCache } from './entry-cache.js';

describe('EntryCache', () => {
  it('keeps at most its byte budget and serves only the latest entry of a slot', () => {
    const cache = new EntryCache(100_000);
    for (let i = 1; i <= 50; i++) cache.put({ kind: 'normal', term: 1, index: i, data: new Uint8Array(10_000) });
    expect(cache.byteSize()).toBeLessThanOrEqual(100_000);
    expect(cache.get(50, 1)).toBeDefined();
    expect(cache.get(1, 1)).toBeUndefined();
    expect(cache.get(50, 2)).toBeUndefined();
  });

  it('releases evicted payloads at once (they must not stay pinned by its bookkeeping)', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc (vitest.config.ts sets it)').toBeTypeOf('function');
    const cache = new EntryCache(100_000);
    const refs: WeakRef<Uint8Array>[] = [];
    for (let i = 1; i <= 500; i++) {
      const data = new Uint8Array(10_000);
      if (i <= 100) refs.push(new WeakRef(data));
      cache.put({ kind: 'normal', term: 1, index: i, data } satisfies Entry);
    }
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
  });
});
