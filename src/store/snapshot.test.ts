import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotCorruptError, SnapshotUnsupportedError, StoreError } from './errors.js';
import { sha256Bytes } from './hash.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file.js';
import { decodeSnapshot } from './snapshot-format.js';
import { contentOf, rng, runWorkload, TestNode, upload, withTempDir } from './test-support.js';

async function sourceNode(dir: string): Promise<TestNode> {
  const node = await TestNode.open(join(dir, 'leader'));
  await runWorkload(node, 21, 8);
  return node;
}

function mutate(bytes: Uint8Array, fn: (copy: Uint8Array) => Uint8Array | void): Uint8Array {
  const copy = bytes.slice();
  return fn(copy) ?? copy;
}

describe('snapshots', () => {
  it('restore reproduces the state and reports exactly the referenced chunks this node lacks', () =>
    withTempDir(async (dir) => {
      const leader = await sourceNode(dir);
      const bytes = await leader.sm.snapshot();
      const follower = await TestNode.open(join(dir, 'follower'));
      // The follower already holds one referenced chunk and one no file references.
      const referenced = decodeSnapshot(bytes).referencedChunks;
      const held = referenced[0] ?? '';
      await follower.sm.chunks.put(held, await leader.sm.chunks.get(held));
      const orphan = contentOf(rng(99).bytes(500), 'orphan').chunks[0];
      if (orphan === undefined) throw new Error('no orphan');
      await follower.sm.chunks.put(orphan.hash, orphan.data);

      const { appliedIndex, missingChunks } = await follower.sm.restore(bytes);
      expect(appliedIndex).toBe(leader.sm.appliedIndex);
      expect(missingChunks).toEqual(referenced.slice(1));
      expect(follower.sm.exportState()).toEqual(leader.sm.exportState());
      expect(follower.sm.stateDigest).toBe(leader.sm.stateDigest);
      // Applying continues after the snapshot's index.
      expect(await follower.sm.apply(appliedIndex + 1, new Uint8Array(0))).toEqual({ ok: true, command: 'noop' });
      await Promise.all([leader.sm.close(), follower.sm.close()]);
    }));

  it('is byte-identical on two nodes that applied the same log', () =>
    withTempDir(async (dir) => {
      const leader = await sourceNode(dir);
      const follower = await TestNode.open(join(dir, 'follower'));
      for (const e of leader.log) await follower.sm.apply(e.index, e.data);
      expect(Buffer.from(await follower.sm.snapshot()).equals(Buffer.from(await leader.sm.snapshot()))).toBe(true);
      await Promise.all([leader.sm.close(), follower.sm.close()]);
    }));

  it('rebuild(snapshot, entries) equals applying the whole log', () =>
    withTempDir(async (dir) => {
      const leader = await TestNode.open(join(dir, 'leader'));
      await runWorkload(leader, 31, 5);
      const snapshot = await leader.sm.snapshot();
      const at = leader.sm.appliedIndex;
      await runWorkload(leader, 32, 5);
      const other = await TestNode.open(join(dir, 'other'));
      await other.sm.rebuild(
        snapshot,
        leader.log.filter((e) => e.index > at),
      );
      expect(other.sm.exportState()).toEqual(leader.sm.exportState());
      await other.sm.rebuild(null, leader.log);
      expect(other.sm.exportState()).toEqual(leader.sm.exportState());
      await Promise.all([leader.sm.close(), other.sm.close()]);
    }));

  it.each<[string, (b: Uint8Array) => Uint8Array | void, RegExp]>([
    ['a flipped body byte', (b) => void (b[b.length - 40] = (b[b.length - 40] ?? 0) ^ 0x20), /checksum mismatch/],
    ['a flipped checksum byte', (b) => void (b[30] = (b[30] ?? 0) ^ 0x01), /checksum mismatch/],
    ['truncation', (b) => b.subarray(0, b.length - 1), /truncated or extended/],
    ['extension', (b) => new Uint8Array([...b, 0x0a]), /truncated or extended/],
    ['a short header', (b) => b.subarray(0, 20), /shorter than the 56-byte header/],
    ['bad magic', (b) => void (b[0] = 0x41), /bad magic/],
    ['nonzero reserved bytes', (b) => void (b[13] = 1), /reserved header bytes/],
  ])('refuses %s with a clear error, leaving the catalog unchanged', (_name, damage, message) =>
    withTempDir(async (dir) => {
      const leader = await sourceNode(dir);
      const bytes = mutate(await leader.sm.snapshot(), damage);
      const before = leader.sm.exportState();
      const error = await leader.sm.restore(bytes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SnapshotCorruptError);
      expect((error as StoreError).message).toMatch(message);
      expect((error as StoreError).message).toMatch(/install a fresh snapshot from the leader/);
      expect(leader.sm.exportState()).toEqual(before);
      await leader.sm.close();
    }),
  );

  it('refuses a newer format, and content that fails validation even under a valid checksum', () =>
    withTempDir(async (dir) => {
      const leader = await sourceNode(dir);
      const bytes = await leader.sm.snapshot();
      expect(() => decodeSnapshot(mutate(bytes, (b) => void (b[9] = 2)))).toThrow(SnapshotUnsupportedError);
      // Forged: a chunk dropped from the list, checksum recomputed. Still refused.
      const text = Buffer.from(bytes.subarray(56)).toString('utf8');
      const lines = text.split('\n');
      const header = JSON.parse(lines[0] ?? '{}') as { chunkCount: number };
      const forgedBody = Buffer.from([JSON.stringify({ ...header, chunkCount: header.chunkCount - 1 }), ...lines.slice(1, -2), ''].join('\n'));
      const forged = Buffer.concat([Buffer.from(bytes.subarray(0, 56)), forgedBody]);
      forged.writeBigUInt64BE(BigInt(forgedBody.length), 16);
      forged.set(sha256Bytes(forgedBody), 24);
      expect(() => decodeSnapshot(forged)).toThrow(/chunk list does not match the chunks the manifests reference/);
      await leader.sm.close();
    }));
});

describe('snapshot files', () => {
  it('round-trip atomically and leave no temp files', () =>
    withTempDir(async (dir) => {
      const payload = rng(4).bytes(100_000);
      const path = join(dir, 'snap-000042');
      await writeSnapshotFile(path, payload);
      expect(Buffer.from((await readSnapshotFile(path)) ?? []).equals(Buffer.from(payload))).toBe(true);
      expect(await readdir(dir)).toEqual(['snap-000042']);
      expect(await readSnapshotFile(join(dir, 'absent'))).toBeNull();
    }));

  it('refuse a damaged file, naming it', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'snap');
      await writeSnapshotFile(path, rng(5).bytes(5000), { fsync: false });
      const bytes = await readFile(path);
      bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
      await writeFile(path, bytes);
      await expect(readSnapshotFile(path)).rejects.toThrow(new RegExp(`snapshot file ${path} is corrupt \\(SHA-256 checksum mismatch`));
      await writeFile(path, bytes.subarray(0, 3000));
      await expect(readSnapshotFile(path)).rejects.toThrow(/truncated or extended/);
    }));

  it('carry a state machine snapshot that restores on another node', () =>
    withTempDir(async (dir) => {
      const leader = await TestNode.open(join(dir, 'leader'));
      await upload(leader, contentOf(rng(6).bytes(4000), 'a.bin'), 'alice', 1_000);
      await writeSnapshotFile(join(dir, 'snap'), await leader.sm.snapshot(), { fsync: false });
      const follower = await TestNode.open(join(dir, 'follower'));
      const { missingChunks } = await follower.sm.restore((await readSnapshotFile(join(dir, 'snap'))) ?? new Uint8Array());
      expect(missingChunks).toHaveLength(4);
      expect(follower.sm.exportState()).toEqual(leader.sm.exportState());
      await Promise.all([leader.sm.close(), follower.sm.close()]);
    }));
});
