import { afterEach, describe, expect, it } from 'vitest';
import { LarderClient } from '../client/larder-client.js';
import { FileStatus } from '../shared/proto/larder/v1/store.js';
import { TestCluster, bytesOf, pieces } from './test/cluster-harness.js';
import { eventually, sha } from './test/membership-helpers.js';

// --client-token: a cluster that lets no client in without the token, uploads and downloads included.

let cluster: TestCluster | null = null;
const clients: LarderClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cluster?.stop();
  cluster = null;
});

function client(endpoints: string[], clientToken?: string): LarderClient {
  const c = new LarderClient({ endpoints, clientToken, retry: { baseDelayMs: 20, maxDelayMs: 200, deadlineMs: 10_000 } });
  clients.push(c);
  return c;
}

describe('--client-token', () => {
  it('refuses every client call without the right token (and logs it), serves those with it, and leaves Health open', async () => {
    const token = 'client-token-for-tests';
    cluster = await TestCluster.start(3, { extraFlags: ['--client-token', token] });
    const leader = await cluster.waitForLeader();
    const follower = cluster.nodes.find((n) => n !== leader)!;
    const data = bytesOf(200 * 1024, 9);
    const file = { name: 'x.bin', mime: 'application/octet-stream', size: data.length, open: () => pieces(data) };

    for (const wrong of [undefined, 'not-the-client-token']) {
      const c = client([follower.address], wrong);
      await expect(c.upload(file)).rejects.toMatchObject({ grpcCode: 16 });
      await expect(c.list({})).rejects.toMatchObject({ grpcCode: 16 });
      await expect(c.clusterInfo(follower.address)).rejects.toThrow(/requires a client token/);
      expect((await c.health(follower.address)).nodeId).toBe(follower.id);
    }
    const c = cluster;
    await eventually(
      'the refusals logged with the caller address',
      async () => (follower.log.some((l) => /refused a client call from .*127\.0\.0\.1.*no client token/.test(l)) ? true : null),
      c,
      5000,
    );
    expect(follower.log.some((l) => /wrong client token/.test(l))).toBe(true);

    // Through a follower, so the forwarded upload must carry the token to the leader too.
    const good = client([follower.address], token);
    const res = await good.upload(file);
    expect(res.status).toBe(FileStatus.FILE_STATUS_DONE);
    const parts: Buffer[] = [];
    await client([leader.address], token).download({ hash: res.hash }, (d) => void parts.push(Buffer.from(d)));
    expect(sha(Buffer.concat(parts))).toBe(sha(data));
  });
});
