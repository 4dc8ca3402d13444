import { describe, expect, it } from 'vitest';
import { fileLockKey } from './commands.js';
import { contentOf, rng, TestNode, withTempDir } from './test-support.js';

const key = 'upload:' + 'a'.repeat(64);
const ttlMs = 30_000;

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

describe('locks', () => {
  it('grants a free lock with the entry index as fencing token and lease = nowMs + ttlMs', () =>
    withNode(async (node) => {
      await node.run({ type: 'setMember', id: 'n1', address: 'a:1', role: 'voter' });
      const result = await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs, nowMs: 1_000 });
      expect(result).toEqual({ ok: true, command: 'acquireLock', key, token: 2, leaseExpiresAtMs: 31_000 });
      expect(await node.sm.catalog.getLock(key)).toEqual({ key, holder: 'alice', token: 2, ttlMs, acquiredAtMs: 1_000, leaseExpiresAtMs: 31_000 });
    }));

  it('refuses a held lock, naming the holder and lease but not the token', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs, nowMs: 1_000 });
      const result = await node.run({ type: 'acquireLock', key, holder: 'bob', ttlMs, nowMs: 20_000 });
      expect(result).toMatchObject({ ok: false, code: 'LOCK_HELD', heldBy: { holder: 'alice', leaseExpiresAtMs: 31_000 } });
      expect(JSON.stringify(result)).not.toMatch(/"token"/);
    }));

  it('lets the same holder take its held lock over with a new token, which fences the old one', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key, holder: 'upload:retry-1', ttlMs, nowMs: 1_000 });
      const again = await node.run({ type: 'acquireLock', key, holder: 'upload:retry-1', ttlMs, nowMs: 2_000 });
      expect(again).toMatchObject({ ok: true, token: 2, leaseExpiresAtMs: 32_000 });
      const stale = await node.run({ type: 'keepAliveLock', key, token: 1, nowMs: 3_000 });
      expect(stale).toMatchObject({ ok: false });
      expect(await node.run({ type: 'acquireLock', key, holder: 'upload:other', ttlMs, nowMs: 3_000 })).toMatchObject({ ok: false, code: 'LOCK_HELD' });
    }));

  it('grants an expired lock to the next comer with a larger token', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs, nowMs: 1_000 });
      const result = await node.run({ type: 'acquireLock', key, holder: 'bob', ttlMs, nowMs: 31_000 });
      expect(result).toMatchObject({ ok: true, token: 2, leaseExpiresAtMs: 61_000 });
    }));

  it('keeps a lease alive, never shortens it, and refuses stale or expired tokens', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs, nowMs: 1_000 });
      expect(await node.run({ type: 'keepAliveLock', key, token: 1, nowMs: 25_000 })).toMatchObject({ ok: true, leaseExpiresAtMs: 55_000 });
      // A proposer whose clock lags: the replicated clock stays at 25 s, the lease stays put.
      expect(await node.run({ type: 'keepAliveLock', key, token: 1, nowMs: 2_000 })).toMatchObject({ ok: true, leaseExpiresAtMs: 55_000 });
      expect(await node.run({ type: 'keepAliveLock', key, token: 99, nowMs: 26_000 })).toMatchObject({ ok: false, code: 'STALE_TOKEN' });
      expect(await node.run({ type: 'keepAliveLock', key, token: 1, nowMs: 55_000 })).toMatchObject({ ok: false, code: 'LOCK_EXPIRED' });
      expect(await node.run({ type: 'keepAliveLock', key: 'other', token: 1, nowMs: 55_000 })).toMatchObject({ ok: false, code: 'LOCK_NOT_HELD' });
    }));

  it('releases only with the holding token', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs, nowMs: 1_000 });
      expect(await node.run({ type: 'releaseLock', key, token: 5 })).toMatchObject({ ok: false, code: 'STALE_TOKEN' });
      expect(await node.run({ type: 'releaseLock', key, token: 1 })).toEqual({ ok: true, command: 'releaseLock', key, released: true });
      expect(await node.run({ type: 'releaseLock', key, token: 1 })).toMatchObject({ ok: true, released: false });
      expect(await node.run({ type: 'acquireLock', key, holder: 'bob', ttlMs, nowMs: 2_000 })).toMatchObject({ ok: true, token: 5 });
    }));

  it('a slow proposer clock cannot revive an expired lease: time in the state machine never goes back', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key, holder: 'alice', ttlMs, nowMs: 1_000 });
      await node.run({ type: 'acquireLock', key: 'other', holder: 'carol', ttlMs, nowMs: 40_000 });
      // Proposed by a node whose clock reads 10 s: the replicated clock is already at 40 s.
      expect(await node.run({ type: 'acquireLock', key, holder: 'bob', ttlMs, nowMs: 10_000 })).toMatchObject({ ok: true, token: 3, leaseExpiresAtMs: 70_000 });
    }));
});

describe('fencing: a holder whose lease expired cannot commit', () => {
  const content = contentOf(rng(1).bytes(3000), 'report.pdf');
  const fileKey = fileLockKey(content.manifest.hash);

  async function putChunks(node: TestNode): Promise<void> {
    for (const c of content.chunks) await node.run({ type: 'putChunk', hash: c.hash, data: c.data });
  }

  it('refuses the stale token after another holder took over, and stores nothing', () =>
    withNode(async (node) => {
      const alice = await node.run({ type: 'acquireLock', key: fileKey, holder: 'alice', ttlMs, nowMs: 1_000 });
      await putChunks(node);
      // Alice stalls (GC pause) past her lease; Bob takes the lock.
      const bob = await node.run({ type: 'acquireLock', key: fileKey, holder: 'bob', ttlMs, nowMs: 40_000 });
      const aliceToken = alice.ok && alice.command === 'acquireLock' ? alice.token : -1;
      const bobToken = bob.ok && bob.command === 'acquireLock' ? bob.token : -1;
      const stale = await node.run({ type: 'commitFile', manifest: content.manifest, token: aliceToken, nowMs: 41_000 });
      expect(stale).toMatchObject({ ok: false, command: 'commitFile', code: 'STALE_TOKEN' });
      expect(await node.sm.catalog.getFile(content.manifest.hash)).toBeNull();
      expect(await node.sm.catalog.getStatus(content.manifest.hash)).toMatchObject({
        status: 'error',
        message: expect.stringMatching(/commit rejected: token 1 no longer holds/),
      });
      expect(await node.run({ type: 'commitFile', manifest: content.manifest, token: bobToken, nowMs: 42_000 })).toMatchObject({ ok: true, status: 'done' });
      expect(await node.sm.catalog.getStatus(content.manifest.hash)).toEqual({ hash: content.manifest.hash, status: 'done' });
    }));

  it('refuses the holder own token once its lease expired, even if nobody took the lock', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key: fileKey, holder: 'alice', ttlMs, nowMs: 1_000 });
      await putChunks(node);
      const late = await node.run({ type: 'commitFile', manifest: content.manifest, token: 1, nowMs: 31_000 });
      expect(late).toMatchObject({ ok: false, code: 'LOCK_EXPIRED' });
      expect(await node.sm.catalog.getFile(content.manifest.hash)).toBeNull();
    }));

  it('refuses a commit without the lock of that very hash', () =>
    withNode(async (node) => {
      await node.run({ type: 'acquireLock', key: 'file:' + 'b'.repeat(64), holder: 'alice', ttlMs, nowMs: 1_000 });
      expect(await node.run({ type: 'commitFile', manifest: content.manifest, token: 1, nowMs: 2_000 })).toMatchObject({ ok: false, code: 'LOCK_NOT_HELD' });
    }));
});
