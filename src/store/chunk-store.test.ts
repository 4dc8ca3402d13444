import { appendFile, readdir, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChunkStore } from './chunk-store.js';
import { ChunkCorruptError, ChunkHashMismatchError } from './errors.js';
import { CHUNK_SIZE_MAX_BYTES, sha256Hex } from './hash.js';
import { contentOf, rng, TestNode, upload, withTempDir } from './test-support.js';

const r = rng(5);
const chunks = Array.from({ length: 5 }, () => r.bytes(4096)).map((data) => ({ hash: sha256Hex(data), data }));

async function withStore(fn: (store: ChunkStore) => Promise<void>, fsync = false): Promise<void> {
  await withTempDir(async (dir) => fn(await ChunkStore.open(join(dir, 'chunks'), { fsync })));
}

type Damage = (path: string) => Promise<void>;
const damages: [string, Damage, 'CHUNK_CORRUPT' | 'CHUNK_MISSING'][] = [
  [
    'a flipped byte',
    async (p) =>
      writeFile(
        p,
        (await readFile(p)).map((b, i) => (i === 100 ? b ^ 0x01 : b)),
      ),
    'CHUNK_CORRUPT',
  ],
  ['zeroed bytes', async (p) => writeFile(p, new Uint8Array((await readFile(p)).length)), 'CHUNK_CORRUPT'],
  ['truncation', async (p) => truncate(p, 1000), 'CHUNK_CORRUPT'],
  ['truncation to nothing', async (p) => truncate(p, 0), 'CHUNK_CORRUPT'],
  ['bytes appended past the chunk limit', async (p) => appendFile(p, new Uint8Array(CHUNK_SIZE_MAX_BYTES)), 'CHUNK_CORRUPT'],
  ['deletion', async (p) => unlink(p), 'CHUNK_MISSING'],
];

describe('chunk store', () => {
  it('stores content-addressed files under a two-hex-character directory, durably, leaving no temp files', () =>
    withStore(async (store) => {
      const [c] = chunks;
      if (c === undefined) throw new Error('no chunk');
      expect(await store.has(c.hash)).toBe(false);
      expect(await store.put(c.hash, c.data)).toBe('written');
      expect(store.pathOf(c.hash)).toBe(join(store.root, c.hash.slice(0, 2), c.hash));
      expect(await store.get(c.hash)).toEqual(new Uint8Array(c.data));
      expect(await store.put(c.hash, c.data)).toBe('present');
      expect(await readdir(join(store.root, c.hash.slice(0, 2)))).toEqual([c.hash]);
      expect(await store.delete(c.hash)).toBe(true);
      expect(await store.delete(c.hash)).toBe(false);
      expect(await store.has(c.hash)).toBe(false);
    }, true));

  it('refuses bytes that do not match the hash', () =>
    withStore(async (store) => {
      const [a, b] = chunks;
      if (a === undefined || b === undefined) throw new Error('no chunk');
      await expect(store.put(a.hash, b.data)).rejects.toBeInstanceOf(ChunkHashMismatchError);
      expect(await store.has(a.hash)).toBe(false);
    }));

  it.each(damages)('detects %s on read with a typed error, never returning wrong bytes', (_name, damage, code) =>
    withStore(async (store) => {
      const [c] = chunks;
      if (c === undefined) throw new Error('no chunk');
      await store.put(c.hash, c.data);
      await damage(store.pathOf(c.hash));
      const error = await store.get(c.hash).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ChunkCorruptError);
      expect(error).toMatchObject({ code, hash: c.hash, path: store.pathOf(c.hash) });
      expect((error as Error).message).toMatch(/fetch it from a peer by hash and put it again/);
      // put repairs it.
      expect(await store.put(c.hash, c.data)).toBe(code === 'CHUNK_MISSING' ? 'written' : 'repaired');
      expect(sha256Hex(await store.get(c.hash))).toBe(c.hash);
    }),
  );

  it('scrub finds exactly the damaged chunks', () =>
    withStore(async (store) => {
      for (const c of chunks) await store.put(c.hash, c.data);
      const [flipped, zeroed, , truncated] = chunks;
      await (damages[0]?.[1] as Damage)(store.pathOf(flipped?.hash ?? ''));
      await (damages[1]?.[1] as Damage)(store.pathOf(zeroed?.hash ?? ''));
      await (damages[2]?.[1] as Damage)(store.pathOf(truncated?.hash ?? ''));
      const problems = await store.scrub();
      expect(problems.map((p) => p.hash).sort()).toEqual([flipped, zeroed, truncated].map((c) => c?.hash).sort());
      expect(problems.every((p) => p.reason === 'hashMismatch')).toBe(true);
    }));
});

describe('state machine scrub', () => {
  it('also reports referenced chunks that are missing, and nothing once repaired', async () => {
    await withTempDir(async (dir) => {
      const node = await TestNode.open(dir);
      const content = contentOf(rng(8).bytes(5000), 'x.bin');
      await upload(node, content, 'alice', 1_000);
      const [gone, bad] = content.chunks;
      if (gone === undefined || bad === undefined) throw new Error('too few chunks');
      await unlink(node.sm.chunks.pathOf(gone.hash));
      await truncate(node.sm.chunks.pathOf(bad.hash), 10);
      const problems = await node.sm.scrub();
      expect(problems.map((p) => [p.hash, p.reason]).sort()).toEqual(
        [
          [gone.hash, 'missing'],
          [bad.hash, 'hashMismatch'],
        ].sort(),
      );
      expect(await node.sm.missingChunks()).toEqual([gone.hash]);
      for (const c of [gone, bad]) await node.sm.chunks.put(c.hash, c.data);
      expect(await node.sm.scrub()).toEqual([]);
      await node.sm.close();
    });
  });
});
