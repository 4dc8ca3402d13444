import { readdir, utimes, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fileLockKey } from './commands.js';
import { GC_GRACE_MS } from './state-machine.js';
import { contentOf, rng, TestNode, upload, withTempDir } from './test-support.js';

async function withNode(fn: (node: TestNode) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const node = await TestNode.open(dir);
    try {
      await fn(node);
    } finally {
      await node.sm.close();
    }
  });
}

async function chunkFileCount(node: TestNode): Promise<number> {
  let n = 0;
  for await (const _hash of node.sm.chunks.list()) n++;
  return n;
}

/** Backdates a chunk file, as if written `ageMs` before `nowMs`. */
async function age(node: TestNode, hash: string, nowMs: number, ageMs: number): Promise<void> {
  const t = new Date(nowMs - ageMs);
  await utimes(node.sm.chunks.pathOf(hash), t, t);
}

const r = rng(3);
const shared = r.bytes(1024);
const photo = contentOf(new Uint8Array([...shared, ...r.bytes(2500)]), 'photo.raw');
const copy = contentOf(new Uint8Array([...shared, ...r.bytes(700)]), 'copy.raw');

describe('files', () => {
  it('stores a file: manifest in order, chunks readable, status done', () =>
    withNode(async (node) => {
      expect(await upload(node, photo, 'alice', 1_000)).toEqual({ ok: true, command: 'commitFile', hash: photo.manifest.hash, status: 'done' });
      const stored = await node.sm.catalog.getFile(photo.manifest.hash);
      expect(stored).toMatchObject({ names: ['photo.raw'], size: photo.manifest.size, chunks: photo.manifest.chunks, status: 'done', viaNode: 'node-a' });
      const parts = await Promise.all(photo.chunks.map((c) => node.sm.chunks.get(c.hash)));
      expect(Buffer.concat(parts).length).toBe(photo.manifest.size);
      expect(await node.sm.catalog.getLock(fileLockKey(photo.manifest.hash))).toBeNull();
    }));

  it('dedups: same content twice gives one done, one duplicate, one stored copy, both names', () =>
    withNode(async (node) => {
      const first = await upload(node, photo, 'alice', 1_000);
      const second = await upload(node, { ...photo, manifest: { ...photo.manifest, name: 'PHOTO (1).raw' } }, 'bob', 2_000);
      expect([first, second].map((x) => x.ok && x.command === 'commitFile' && x.status)).toEqual(['done', 'duplicate']);
      expect(await chunkFileCount(node)).toBe(photo.chunks.length);
      expect((await node.sm.catalog.getFile(photo.manifest.hash))?.names).toEqual(['photo.raw', 'PHOTO (1).raw']);
      for (const c of photo.chunks) expect(node.sm.referenceCount(c.hash)).toBe(1);
      expect((await node.sm.catalog.listFiles({ limit: 10 })).files).toHaveLength(1);
    }));

  it('dedups racing uploads: the second waits for the lock, then finds a duplicate', () =>
    withNode(async (node) => {
      const key = fileLockKey(photo.manifest.hash);
      const alice = await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs: 30_000, nowMs: 1_000 });
      expect(await node.run({ type: 'acquireLock', key, holder: 'bob', ttlMs: 30_000, nowMs: 1_001 })).toMatchObject({ code: 'LOCK_HELD' });
      for (const c of photo.chunks) await node.run({ type: 'putChunk', hash: c.hash, data: c.data });
      const token = alice.ok && alice.command === 'acquireLock' ? alice.token : 0;
      await node.run({ type: 'commitFile', manifest: photo.manifest, token, nowMs: 2_000 });
      await node.run({ type: 'releaseLock', key, token });
      expect(await upload(node, photo, 'bob', 3_000)).toMatchObject({ ok: true, status: 'duplicate' });
      expect(await node.sm.catalog.getStatus(photo.manifest.hash)).toEqual({ hash: photo.manifest.hash, status: 'duplicate' });
    }));

  it('refuses chunk bytes that do not match their hash, storing nothing', () =>
    withNode(async (node) => {
      const bad = await node.run({ type: 'putChunk', hash: 'a'.repeat(64), data: new Uint8Array([1, 2, 3]) });
      expect(bad).toMatchObject({ ok: false, code: 'CHUNK_HASH_MISMATCH' });
      expect(await chunkFileCount(node)).toBe(0);
    }));

  it('records upload statuses but never lets one override a stored file', () =>
    withNode(async (node) => {
      const hash = photo.manifest.hash;
      expect(await node.run({ type: 'setStatus', hash, status: 'processing' })).toMatchObject({ recorded: true });
      expect(await node.sm.catalog.getStatus(hash)).toEqual({ hash, status: 'processing' });
      await upload(node, photo, 'alice', 1_000);
      expect(await node.run({ type: 'setStatus', hash, status: 'error', message: 'late' })).toMatchObject({ recorded: false });
      expect(await node.sm.catalog.getStatus(hash)).toEqual({ hash, status: 'done' });
      expect(await node.sm.catalog.getStatus('0'.repeat(64))).toBeNull();
    }));

  it('deletes a manifest; shared chunks keep their other reference', () =>
    withNode(async (node) => {
      await upload(node, photo, 'alice', 1_000);
      await upload(node, copy, 'alice', 2_000);
      const sharedHash = photo.chunks[0]?.hash ?? '';
      expect(node.sm.referenceCount(sharedHash)).toBe(2);
      const result = await node.run({ type: 'deleteFile', hash: photo.manifest.hash });
      const onlyPhoto = photo.chunks.slice(1).map((c) => c.hash);
      expect(result).toMatchObject({ ok: true, deleted: true, unreferencedChunks: onlyPhoto });
      expect(node.sm.referenceCount(sharedHash)).toBe(1);
      expect(await node.sm.catalog.getFile(photo.manifest.hash)).toBeNull();
      expect(await node.run({ type: 'deleteFile', hash: photo.manifest.hash })).toMatchObject({ ok: true, deleted: false });
    }));
});

describe('garbage collection', () => {
  const nowMs = 10_000_000;

  it('deletes unreferenced chunks older than the grace period, keeps referenced and young ones', () =>
    withNode(async (node) => {
      await upload(node, photo, 'alice', 1_000);
      await upload(node, copy, 'alice', 2_000);
      await node.run({ type: 'deleteFile', hash: photo.manifest.hash });
      const [young, ...old] = photo.chunks.slice(1).map((c) => c.hash);
      for (const c of [...photo.chunks, ...copy.chunks]) await age(node, c.hash, nowMs, GC_GRACE_MS + 1);
      await age(node, young ?? '', nowMs, GC_GRACE_MS - 1_000);
      const { deleted } = await node.sm.gc({ nowMs });
      expect(deleted.sort()).toEqual([...old].sort());
      expect(await node.sm.chunks.has(young ?? '')).toBe(true);
      for (const c of copy.chunks) expect(await node.sm.chunks.get(c.hash)).toHaveLength(c.data.length);
      expect(await node.sm.missingChunks()).toEqual([]);
    }));

  it('keeps the chunks of an upload still holding its lock, however long it takes', () =>
    withNode(async (node) => {
      const uploadStartMs = nowMs - 10 * GC_GRACE_MS;
      await node.run({ type: 'acquireLock', key: fileLockKey(photo.manifest.hash), holder: 'slow', ttlMs: 30_000, nowMs: uploadStartMs });
      for (let t = uploadStartMs + 20_000; t < nowMs; t += 20_000) {
        expect(await node.run({ type: 'keepAliveLock', key: fileLockKey(photo.manifest.hash), token: 1, nowMs: t })).toMatchObject({ ok: true });
      }
      for (const c of photo.chunks) {
        await node.run({ type: 'putChunk', hash: c.hash, data: c.data });
        await age(node, c.hash, nowMs, 5 * GC_GRACE_MS);
      }
      expect((await node.sm.gc({ nowMs })).deleted).toEqual([]);
      // Once the lease lapses, the orphans go.
      expect((await node.sm.gc({ nowMs: nowMs + 60_000 })).deleted).toHaveLength(photo.chunks.length);
    }));

  it('removes temp files a crash left behind', () =>
    withNode(async (node) => {
      await upload(node, photo, 'alice', 1_000);
      const dir = node.sm.chunks.pathOf(photo.chunks[0]?.hash ?? '').replace(/\/[^/]+$/, '');
      const temp = `${dir}/.${photo.chunks[0]?.hash}.abc123.tmp`;
      await writeFile(temp, 'half a chunk');
      await utimes(temp, new Date(0), new Date(0));
      await node.sm.gc({ nowMs });
      expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
    }));
});
