import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.js';
import { contentOf, rng, TestNode, upload, withTempDir } from './test-support.js';

const names = ['Q3-Report.pdf', 'holiday.jpg', 'a+b (1).txt', 'report-final.docx', 'notes.md'];

async function withFiles(fn: (node: TestNode, hashesNewestFirst: string[]) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const node = await TestNode.open(dir);
    const r = rng(9);
    const files: { hash: string; createdAtMs: number }[] = [];
    for (let i = 0; i < 23; i++) {
      // Equal timestamps in pairs: ties are broken by hash.
      const createdAtMs = 1_000 + Math.floor(i / 2);
      const content = contentOf(r.bytes(100 + i), names[i % names.length] ?? 'x', { createdAtMs });
      await upload(node, content, 'alice', 5_000 + i);
      files.push({ hash: content.manifest.hash, createdAtMs });
    }
    files.sort((a, b) => b.createdAtMs - a.createdAtMs || (a.hash < b.hash ? -1 : 1));
    try {
      await fn(
        node,
        files.map((f) => f.hash),
      );
    } finally {
      await node.sm.close();
    }
  });
}

describe('catalog queries', () => {
  it('lists newest first, page by page, each file once', () =>
    withFiles(async (node, expected) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const result = await node.sm.catalog.listFiles({ limit: 10, cursor });
        seen.push(...result.files.map((f) => f.hash));
        cursor = result.nextCursor;
        if (cursor === null) break;
      }
      expect(seen).toEqual(expected);
    }));

  it('filters by a case-insensitive substring of any name, regex characters taken literally', () =>
    withFiles(async (node) => {
      const reports = await node.sm.catalog.listFiles({ limit: 100, nameContains: 'REPORT' });
      expect(reports.files.length).toBeGreaterThan(0);
      expect(reports.files.every((f) => f.names.some((n) => n.toLowerCase().includes('report')))).toBe(true);
      const literal = await node.sm.catalog.listFiles({ limit: 100, nameContains: '+b (' });
      expect(literal.files.map((f) => f.names[0])).toEqual(literal.files.map(() => 'a+b (1).txt'));
      expect(literal.files.length).toBeGreaterThan(0);
      const pageOne = await node.sm.catalog.listFiles({ limit: 2, nameContains: 'report' });
      const pageTwo = await node.sm.catalog.listFiles({ limit: 2, nameContains: 'report', cursor: pageOne.nextCursor });
      expect([...pageOne.files, ...pageTwo.files].map((f) => f.hash)).toEqual(reports.files.slice(0, 4).map((f) => f.hash));
    }));

  it('finds by hash, with the chunk list; summaries carry counts only', () =>
    withFiles(async (node, hashes) => {
      const hash = hashes[0] ?? '';
      const file = await node.sm.catalog.getFile(hash);
      expect(file?.chunks.reduce((s, c) => s + c.size, 0)).toBe(file?.size);
      const [summary] = (await node.sm.catalog.listFiles({ limit: 1 })).files;
      expect(summary).toMatchObject({ hash, chunkCount: file?.chunks.length });
      expect(summary).not.toHaveProperty('chunks');
      expect(await node.sm.catalog.getFile('0'.repeat(64))).toBeNull();
    }));

  it('refuses a bad limit or a forged cursor with INVALID_ARGUMENT', () =>
    withFiles(async (node) => {
      for (const query of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { limit: 5, cursor: 'x' }]) {
        await expect(node.sm.catalog.listFiles(query)).rejects.toThrow(StoreError);
      }
    }));

  it('lists members and locks', async () => {
    await withTempDir(async (dir) => {
      const node = await TestNode.open(dir);
      await node.run({ type: 'setMember', id: 'b', address: '10.0.0.2:7000', role: 'learner' });
      await node.run({ type: 'setMember', id: 'a', address: '10.0.0.1:7000', role: 'voter' });
      await node.run({ type: 'setMember', id: 'b', address: '10.0.0.2:7000', role: 'voter' });
      expect(await node.sm.catalog.listMembers()).toEqual([
        { id: 'a', address: '10.0.0.1:7000', role: 'voter' },
        { id: 'b', address: '10.0.0.2:7000', role: 'voter' },
      ]);
      expect(await node.run({ type: 'removeMember', id: 'a' })).toMatchObject({ removed: true });
      expect((await node.sm.catalog.listMembers()).map((m) => m.id)).toEqual(['b']);
      await node.run({ type: 'acquireLock', key: 'k2', holder: 'x', ttlMs: 10, nowMs: 1 });
      await node.run({ type: 'acquireLock', key: 'k1', holder: 'y', ttlMs: 10, nowMs: 1 });
      expect((await node.sm.catalog.listLocks()).map((l) => l.key)).toEqual(['k1', 'k2']);
      await node.sm.close();
    });
  });
});
