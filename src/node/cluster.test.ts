import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStatus } from '../shared/proto/larder/v1/store.js';
import { TestCluster, bytesOf, pieces } from './test/cluster-harness.js';

// Real `larder start` processes on 127.0.0.1 (issue 4's proof). Each test starts its own cluster.

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

async function download(c: TestCluster, endpoint: string, hash: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  await c.client([endpoint]).download({ hash }, (d) => void parts.push(Buffer.from(d)));
  return Buffer.concat(parts);
}

/** Chunk files stored under a node's data dir. */
function chunkFiles(dataDir: string): string[] {
  const root = join(dataDir, 'store', 'chunks');
  return readdirSync(root).flatMap((d) => (statSync(join(root, d)).isDirectory() ? readdirSync(join(root, d)) : []));
}

describe.each([3, 5])('a %i-node cluster', (size) => {
  it('stores an upload made through a follower and serves it byte-equal from every node', async () => {
    cluster = await TestCluster.start(size);
    const leader = await cluster.waitForLeader();
    const follower = cluster.nodes.find((n) => n !== leader)!;
    const data = bytesOf(700 * 1024 + 123, size);
    const res = await cluster.client([follower.address]).upload({ name: 'photo.jpg', mime: 'image/jpeg', size: data.length, open: () => pieces(data) });
    expect(res.status).toBe(FileStatus.FILE_STATUS_DONE);
    expect(res.hash).toBe(sha(data));
    expect(res.chunks).toBe(3);
    for (const n of cluster.nodes) expect(sha(await download(cluster, n.address, res.hash))).toBe(res.hash);
  });
});

describe('content addressing', () => {
  it('concurrent identical uploads through different nodes: one done, the rest duplicate, one copy per node', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const data = bytesOf(300 * 1024, 42);
    const results = await Promise.all(cluster.nodes.map((n, i) => cluster!.client([n.address]).upload({ name: `copy-${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data) })));
    expect(results.map((r) => r.status).sort()).toEqual([FileStatus.FILE_STATUS_DONE, FileStatus.FILE_STATUS_DUPLICATE, FileStatus.FILE_STATUS_DUPLICATE]);
    const info = await cluster.client().stat({ hash: sha(data) }, true);
    expect([...info.names].sort()).toEqual(['copy-0.bin', 'copy-1.bin', 'copy-2.bin']);
    await cluster.waitForApplied((await cluster.info(cluster.nodes[0]!))!.commitIndex);
    for (const n of cluster.nodes) expect(chunkFiles(n.dataDir).sort()).toEqual(info.chunks.map((c) => c.hash).sort());
  });
});
