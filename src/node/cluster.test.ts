import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lanClientCredentials, nodeChannelOptions } from '../client/larder-client.js';
import { FileStatus, LarderServiceClient } from '../shared/proto/larder/v1/store.js';
import { TestCluster, bytesOf, pieces, sleep } from './test/cluster-harness.js';

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
    const results = await Promise.all(
      cluster.nodes.map((n, i) => cluster!.client([n.address]).upload({ name: `copy-${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data) })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([FileStatus.FILE_STATUS_DONE, FileStatus.FILE_STATUS_DUPLICATE, FileStatus.FILE_STATUS_DUPLICATE]);
    const info = await cluster.client().stat({ hash: sha(data) }, true);
    expect([...info.names].sort()).toEqual(['copy-0.bin', 'copy-1.bin', 'copy-2.bin']);
    await cluster.waitForApplied((await cluster.info(cluster.nodes[0]!))!.commitIndex);
    for (const n of cluster.nodes) expect(chunkFiles(n.dataDir).sort()).toEqual(info.chunks.map((c) => c.hash).sort());
  });
});

describe('damage and bad input', () => {
  it('detects a corrupted chunk on read, repairs it from a peer, and the download still succeeds', async () => {
    cluster = await TestCluster.start(3);
    const leader = await cluster.waitForLeader();
    const data = bytesOf(600 * 1024, 7);
    const res = await cluster.client().upload({ name: 'doc.pdf', mime: 'application/pdf', open: () => pieces(data) });
    await cluster.waitForApplied((await cluster.info(leader))!.commitIndex);
    const victim = cluster.nodes.find((n) => n !== leader)!;
    const info = await cluster.client([victim.address]).stat({ hash: res.hash });
    const chunk = info.chunks[1]!.hash;
    const path = join(victim.dataDir, 'store', 'chunks', chunk.slice(0, 2), chunk);
    const bytes = readFileSync(path);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(path, bytes);
    expect(sha(await download(cluster, victim.address, res.hash))).toBe(res.hash);
    expect(sha(readFileSync(path))).toBe(chunk);
    expect(victim.log.some((l) => l.includes('chunk repaired from a peer'))).toBe(true);
  });

  it('answers bad input with a clear error and changes nothing', async () => {
    cluster = await TestCluster.start(3);
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    const data = bytesOf(10_000, 3);
    const res = await client.upload({ name: 'a.txt', mime: 'text/plain', open: () => pieces(data) });
    await expect(client.delete(res.hash, 'wrong-token')).rejects.toThrow(/wrong host token/);
    await expect(client.stat({ hash: 'f'.repeat(64) })).rejects.toThrow(/no file with hash/);
    await expect(client.stat({ hash: 'nope' })).rejects.toThrow(/not a content hash/);
    await expect(client.download({ hash: res.hash }, () => {}, { offset: 20_000 })).rejects.toThrow(/past the end/);
    await expect(client.upload({ name: 'x/y', mime: 'text/plain', open: () => pieces(data) })).rejects.toThrow(/must not contain/);
    await expect(client.upload({ name: 'b.txt', mime: 'text/plain', size: 5, open: () => pieces(data) })).rejects.toThrow(/announced 5 bytes/);
    const range: Buffer[] = [];
    await client.download({ hash: res.hash }, (d) => void range.push(Buffer.from(d)), { offset: 100, length: 50 });
    expect(Buffer.concat(range)).toEqual(data.subarray(100, 150));

    // A client that goes away mid-upload leaves no file behind.
    const stub = new LarderServiceClient(leader.address, lanClientCredentials(), nodeChannelOptions);
    const call = stub.upload(() => {});
    call.on('error', () => {});
    call.write({
      header: { name: 'half.bin', mime: 'application/octet-stream', size: 0, noForward: false, uploadId: '' },
      data: Buffer.alloc(0),
      complete: false,
    });
    call.write({ header: undefined, data: bytesOf(600 * 1024, 9), complete: false });
    await new Promise((r) => setTimeout(r, 300));
    call.cancel();
    stub.close();
    await new Promise((r) => setTimeout(r, 300));
    const listed = await client.list();
    expect(listed.files.map((f) => f.names[0])).toEqual(['a.txt']);
    expect(await client.delete(res.hash, cluster.token)).toBe(true);
    await expect(client.stat({ hash: res.hash }, true)).rejects.toThrow(/no file with hash/);
  });
});

describe('failures', () => {
  it('kill -9 of the leader mid-stream: a new leader takes over, uploads resume, every acknowledged upload survives on every node', async () => {
    cluster = await TestCluster.start(3);
    const oldLeader = await cluster.waitForLeader();
    const client = cluster.client(undefined, 60_000);
    const acked = new Map<string, { data: Buffer; at: number }>();
    const unacked: Buffer[] = [];
    let stop = false;
    const uploader = (async () => {
      for (let i = 0; !stop; i++) {
        const data = bytesOf(20_000 + i * 977, 1000 + i);
        try {
          const r = await client.upload({ name: `f${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data, 8192) });
          acked.set(r.hash, { data, at: Date.now() });
        } catch {
          unacked.push(data);
        }
      }
    })();
    await sleep(1500);
    const killedAt = Date.now();
    cluster.kill(oldLeader);
    const newLeader = await cluster.waitForLeader();
    expect(newLeader.id).not.toBe(oldLeader.id);
    await sleep(1500);
    stop = true;
    await uploader;
    expect([...acked.values()].filter((a) => a.at > killedAt).length).toBeGreaterThan(0);
    cluster.launch(oldLeader);
    await cluster.waitForLeader();
    // A restarted node replays and re-verifies its log tail first: slow on a loaded 2-core CI box.
    await cluster.waitForApplied((await cluster.info(newLeader))!.commitIndex, 60_000);
    for (const n of cluster.nodes) {
      for (const [hash, { data }] of acked) expect((await download(cluster, n.address, hash)).equals(data)).toBe(true);
    }
    for (const data of unacked) {
      const present = await cluster
        .client()
        .stat({ hash: sha(data) }, true)
        .then(
          () => true,
          () => false,
        );
      if (present) expect((await download(cluster, newLeader.address, sha(data))).equals(data)).toBe(true);
    }
  });
});

describe('catching up', () => {
  it('a node stopped while the others compacted catches up by snapshot and fetches only the chunks it lacks', async () => {
    cluster = await TestCluster.start(3, { extraFlags: ['--snapshot-entries', '20'] });
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    const before = bytesOf(300 * 1024, 500);
    await client.upload({ name: 'before.bin', mime: 'application/octet-stream', open: () => pieces(before) });
    const lagger = cluster.nodes.find((n) => n !== leader)!;
    await cluster.waitForApplied((await cluster.info(leader))!.commitIndex);
    cluster.kill(lagger);
    const later: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const data = bytesOf(100 * 1024 + i, 600 + i);
      later.push(data);
      await client.upload({ name: `later-${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data) });
    }
    const first = (await cluster.info(leader))!.firstIndex;
    expect(first).toBeGreaterThan(10); // the leader compacted its log past what the lagger holds
    cluster.launch(lagger);
    await cluster.waitForApplied((await cluster.info(leader))!.commitIndex);
    const logs = lagger.log
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; missingChunks?: number; fetched?: number; chunk?: string });
    const installed = logs.find((l) => l.msg?.startsWith('installed snapshot'));
    // The snapshot references before.bin's 2 chunks (held) and the chunks of the later files it
    // covers (1 each, missing); files after the snapshot arrive through the log.
    expect(installed?.missingChunks).toBeGreaterThan(0);
    expect(installed?.missingChunks).toBeLessThanOrEqual(12);
    await expect.poll(() => lagger.log.some((l) => l.includes('snapshot catch-up: chunks fetched')), { timeout: 15_000 }).toBe(true);
    const fetched = lagger.log.filter((l) => l.includes('snapshot catch-up')).map((l) => JSON.parse(l) as { fetched: number; of: number })[0];
    expect(fetched).toEqual({ ...fetched, fetched: installed!.missingChunks, of: installed!.missingChunks });
    const beforeChunks = (await client.stat({ hash: sha(before) })).chunks.map((c) => c.hash);
    expect(logs.filter((l) => l.chunk !== undefined && beforeChunks.includes(l.chunk))).toEqual([]);
    for (const data of [before, ...later]) expect((await download(cluster, lagger.address, sha(data))).equals(data)).toBe(true);
  });
});

describe('large files', () => {
  it('uploads and downloads a 200 MB file with every node under 300 MB of RSS', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const size = 200 * 1024 * 1024;
    const piece = bytesOf(1024 * 1024, 77);
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < size / piece.length; i++) {
        piece.writeUInt32LE(i, 0); // every MiB differs, so no chunk dedups away
        yield piece;
      }
    }
    const expected = createHash('sha256');
    for await (const p of source()) expected.update(p);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, ...cluster!.nodes.map((n) => cluster!.rssBytes(n)))), 100);
    try {
      const client = cluster.client(undefined, 180_000);
      const res = await client.upload({ name: 'big.bin', mime: 'application/octet-stream', size, open: source });
      expect(res.hash).toBe(expected.digest('hex'));
      const got = createHash('sha256');
      let bytes = 0;
      await client.download({ hash: res.hash }, (d) => {
        got.update(d);
        bytes += d.length;
      });
      expect(bytes).toBe(size);
      expect(got.digest('hex')).toBe(res.hash);
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak / 1024 / 1024).toBeLessThan(300);
    console.log(`200 MB round trip: peak node RSS ${(peak / 1024 / 1024).toFixed(0)} MiB`);
  }, 200_000);
});

describe('statuses and locks', () => {
  it('streams status changes to a watcher on another node, and hands out fenced lease locks', async () => {
    cluster = await TestCluster.start(3);
    const leader = await cluster.waitForLeader();
    const follower = cluster.nodes.find((n) => n !== leader)!;
    const data = bytesOf(50_000, 11);
    const hash = sha(data);
    const seen: number[] = [];
    const watcher = (async () => {
      // The hash is unknown to the cluster until the upload reaches it: retry until it is.
      for (;;) {
        try {
          for await (const s of cluster!.client([follower.address]).watchStatus(hash)) seen.push(s.status);
          return;
        } catch {
          await sleep(20);
        }
      }
    })();
    await cluster.client([leader.address]).upload({ name: 'w.bin', mime: 'application/octet-stream', open: () => pieces(data) });
    await watcher;
    expect(seen.at(-1)).toBe(FileStatus.FILE_STATUS_DONE);
    expect((await cluster.client([follower.address]).getStatus(hash)).status).toBe(FileStatus.FILE_STATUS_DONE);

    const client = cluster.client();
    // Leases long enough that three commits fit in one on a busy machine (400 ms did not, once, in CI).
    const a = await client.acquireLock('report', 'alice', 1500);
    expect(a.acquired).toBe(true);
    const b = await client.acquireLock('report', 'bob', 1500);
    expect(b).toMatchObject({ acquired: false, holder: 'alice' });
    await client.keepAliveLock('report', a.fencingToken);
    const c = await client.acquireLock('report', 'bob', 1500, 6000); // waits out alice's lease
    expect(c.acquired).toBe(true);
    expect(c.fencingToken).toBeGreaterThan(a.fencingToken);
    await expect(client.keepAliveLock('report', a.fencingToken)).rejects.toThrow();
    expect(await client.releaseLock('report', c.fencingToken)).toBe(true);
  });
});

describe('the per-hash lock', () => {
  it('an upload whose hash is locked by a holder that died waits out the lease, then stores the file', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const client = cluster.client();
    const data = bytesOf(40_000, 21);
    // A holder that took the file's lock and then crashed: it never commits nor releases.
    const crashed = await client.acquireLock(`file:${sha(data)}`, 'crashed-uploader', 1500);
    expect(crashed.acquired).toBe(true);
    const t0 = Date.now();
    const res = await client.upload({ name: 'late.bin', mime: 'application/octet-stream', open: () => pieces(data) });
    expect(res.status).toBe(FileStatus.FILE_STATUS_DONE);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // it waited for the lease to end
    await expect(client.keepAliveLock(`file:${sha(data)}`, crashed.fencingToken)).rejects.toThrow(); // the dead holder's token is fenced off
  });
});

describe('forwarding off', () => {
  it('a follower answers NOT_LEADER with the leader address, which the client library follows', async () => {
    cluster = await TestCluster.start(3, { extraFlags: ['--forward-uploads', 'false'] });
    const leader = await cluster.waitForLeader();
    const follower = cluster.nodes.find((n) => n !== leader)!;
    await cluster.waitUntilKnowsLeader(follower, leader); // else it rightly answers UNAVAILABLE: no leader known yet
    const stub = new LarderServiceClient(follower.address, lanClientCredentials(), nodeChannelOptions);
    const refusal = await new Promise<{ code?: number; metadata?: { get(k: string): unknown[] } }>((resolve) => {
      const call = stub.upload((e) => resolve(e ?? {}));
      call.on('error', () => {});
      call.write({
        header: { name: 'x.bin', mime: 'application/octet-stream', size: 0, noForward: false, uploadId: '' },
        data: Buffer.alloc(0),
        complete: false,
      });
    });
    stub.close();
    expect(refusal.code).toBe(9); // FAILED_PRECONDITION
    expect(String(refusal.metadata?.get('x-larder-leader')[0])).toBe(leader.address);
    const data = bytesOf(30_000, 31);
    const res = await cluster.client([follower.address]).upload({ name: 'y.bin', mime: 'application/octet-stream', open: () => pieces(data) });
    expect(res.status).toBe(FileStatus.FILE_STATUS_DONE);
  });
});
