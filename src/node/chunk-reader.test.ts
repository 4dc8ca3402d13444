import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChunkStore, sha256Hex } from '../store/index.js';
import { ChunkReader, ChunkUnavailableError, type ChunkSource } from './chunk-reader.js';
import { createLogger } from './log.js';

const log = createLogger('test', 'silent');
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function storeWith(...chunks: Uint8Array[]): Promise<ChunkStore> {
  dir = await mkdtemp(join(tmpdir(), 'larder-reader-'));
  const store = await ChunkStore.open(dir, { fsync: false });
  for (const c of chunks) await store.put(sha256Hex(c), c);
  return store;
}

const noPeers: ChunkSource = { fetchChunk: () => Promise.reject(new Error('no peer should be asked')) };
const chunk = (fill: number, size = 255 * 1024) => new Uint8Array(size).fill(fill);

describe('ChunkReader', () => {
  it('reads a cold chunk from disk once for many concurrent downloads, then serves it from the cache', async () => {
    const data = chunk(7);
    const store = await storeWith(data);
    const get = vi.spyOn(store, 'get');
    const reader = new ChunkReader(store, () => [], noPeers, log, 64 * 1024 * 1024);
    const reads = await Promise.all(Array.from({ length: 8 }, () => reader.read(sha256Hex(data))));
    for (const r of reads) expect(Buffer.from(r).equals(Buffer.from(data))).toBe(true);
    expect(get).toHaveBeenCalledTimes(1);
    expect(reader.stats).toMatchObject({ misses: 1, joined: 7, hits: 0 });
    await reader.read(sha256Hex(data));
    expect(get).toHaveBeenCalledTimes(1);
    expect(reader.stats.hits).toBe(1);
  });

  it('keeps the cache within its byte bound: the least recently used chunk is read from disk again', async () => {
    const [a, b] = [chunk(1), chunk(2)];
    const store = await storeWith(a, b);
    const get = vi.spyOn(store, 'get');
    const reader = new ChunkReader(store, () => [], noPeers, log, a.length + 10); // room for one chunk
    await reader.read(sha256Hex(a));
    await reader.read(sha256Hex(b));
    await reader.read(sha256Hex(a));
    expect(get).toHaveBeenCalledTimes(3);
  });

  it('repairs a corrupt chunk from the first peer whose copy matches its hash, and rewrites it on disk', async () => {
    const data = chunk(9);
    const hash = sha256Hex(data);
    const store = await storeWith(data);
    await writeFile(store.pathOf(hash), chunk(8)); // bit rot
    const asked: string[] = [];
    const peers: ChunkSource = {
      fetchChunk: async (peer) => {
        asked.push(peer);
        return peer === 'liar' ? chunk(8) : data;
      },
    };
    const reader = new ChunkReader(store, () => ['liar', 'honest'], peers, log, 1 << 20);
    expect(Buffer.from(await reader.read(hash)).equals(Buffer.from(data))).toBe(true);
    expect(asked).toEqual(['liar', 'honest']);
    expect(reader.stats.repairs).toBe(1);
    expect(Buffer.from(await store.get(hash)).equals(Buffer.from(data))).toBe(true);
  });

  it('fails with CHUNK_UNAVAILABLE, naming the peers tried, when no copy can be found; a later read tries again', async () => {
    const data = chunk(3);
    const store = await storeWith();
    const reader = new ChunkReader(store, () => ['n2'], { fetchChunk: () => Promise.reject(new Error('down')) }, log, 1 << 20);
    await expect(reader.read(sha256Hex(data))).rejects.toThrow(ChunkUnavailableError);
    await expect(reader.read(sha256Hex(data))).rejects.toThrow(/tried: n2/);
    await store.put(sha256Hex(data), data);
    expect((await reader.read(sha256Hex(data))).length).toBe(data.length);
  });
});
