import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { lanClientCredentials, nodeChannelOptions } from '../client/larder-client.js';
import { LarderServiceClient, ReadConsistency } from '../shared/proto/larder/v1/store.js';
import { RaftPeerServiceClient, type StreamResponse } from '../shared/proto/larder/v1/raft.js';
import { messageToWire } from '../transport/codec.js';
import { deriveClusterCa, generateSecret, issueIdentity, parseSecret } from '../trust/index.js';
import { TestCluster, bytesOf, pieces, sleep } from './test/cluster-harness.js';

// A stranger on the LAN: it knows the cluster id and a member's node id, not the secret.
// Real `larder start` processes on 127.0.0.1.

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

/** Dials a node with a certificate from the wrong CA, not checking the node (so TLS lets it through to the peer service). */
async function rogueStub(address: string): Promise<InstanceType<typeof RaftPeerServiceClient>> {
  const ca = await deriveClusterCa(parseSecret(generateSecret()), 'larder');
  const id = await issueIdentity('n2', ca);
  const creds = credentials.createSsl(null, Buffer.from(id.keyPem), Buffer.from(id.certPem), {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  return new RaftPeerServiceClient(address, creds, nodeChannelOptions);
}

function sendVote(stub: InstanceType<typeof RaftPeerServiceClient>, term: number): Promise<ServiceError | null> {
  return new Promise((resolve) => {
    const call = stub.stream(new Metadata(), { deadline: Date.now() + 5000 }, (e: ServiceError | null, _r?: StreamResponse) => resolve(e));
    call.on('error', () => {});
    const vote = messageToWire({ type: 'vote', from: 'n2', to: 'n1', term, lastLogIndex: 1_000_000, lastLogTerm: term, transfer: true });
    call.write({ clusterId: 'larder', messages: [vote] });
    call.end();
  });
}

describe('trust', () => {
  it('a node with the right cluster id but a wrong secret is refused on peer RPCs and logged, and the cluster carries on', async () => {
    cluster = await TestCluster.start(3);
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    const before = await client.upload({ name: 'before.bin', mime: 'application/octet-stream', open: () => pieces(bytesOf(10_000, 1)) });
    const infoBefore = (await cluster.info(leader))!;

    for (const n of cluster.nodes) {
      const stub = await rogueStub(n.address);
      const err = await sendVote(stub, infoBefore.term + 1000);
      stub.close();
      expect(err?.code, `${n.id}`).toBe(16); // UNAUTHENTICATED
      expect(err?.details).toMatch(/not a member of this cluster: it presented no certificate issued by this cluster/);
    }
    // A client with no certificate at all (any LAN client) is refused on the peer service too.
    const bare = new RaftPeerServiceClient(
      leader.address,
      credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined }),
      nodeChannelOptions,
    );
    const bareErr = await sendVote(bare, infoBefore.term + 1000);
    bare.close();
    expect(bareErr?.details).toMatch(/presented no certificate issued by this cluster/);

    await sleep(300);
    for (const n of cluster.nodes) {
      expect(
        n.log.some((l) => /refused a peer stream from .*127\.0\.0\.1:\d+.*no certificate issued by this cluster/.test(l)),
        `${n.id} logs the refusal with the remote address`,
      ).toBe(true);
    }
    // Unaffected: same leader and term (a vote at term + 1000 would have forced an election), uploads go on.
    const infoAfter = (await cluster.info(leader))!;
    expect(infoAfter.role).toBe('leader');
    expect(infoAfter.term).toBe(infoBefore.term);
    const after = await client.upload({ name: 'after.bin', mime: 'application/octet-stream', open: () => pieces(bytesOf(10_000, 2)) });
    for (const ep of cluster.endpoints()) {
      for (const hash of [before.hash, after.hash]) await expect(cluster.client([ep]).stat({ hash }, true)).resolves.toMatchObject({ hash });
    }
  }, 90_000);

  it('a member restarted with another secret gets nothing more from the cluster, which carries on without it', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const n3 = cluster.node('n3');
    cluster.kill(n3);
    // n3 comes back with a wrong secret (the flag overrides the one it stored).
    cluster.launchWith(n3, ['--cluster-secret', generateSecret()]);
    const others = cluster.nodes.filter((n) => n !== n3);
    const up = await cluster
      .client(others.map((n) => n.address))
      .upload({ name: 'x.bin', mime: 'application/octet-stream', open: () => pieces(bytesOf(5_000, 3)) });
    const leaderInfo = (await Promise.all(others.map((n) => cluster!.info(n)))).find((i) => i?.role === 'leader')!;
    // n3 runs (once it has started, which a loaded machine may take a while to let it do)...
    let n3Info = await cluster.info(n3);
    for (const end = Date.now() + 30_000; n3Info === null && Date.now() < end; n3Info = await cluster.info(n3)) await sleep(200);
    expect(n3Info).not.toBeNull();
    await sleep(3000);
    expect(n3.log.some((l) => /cluster secret changed/.test(l))).toBe(true);
    // ...but nothing replicated since reaches it: no TLS session with a real node can be made.
    expect((await cluster.info(n3))!.appliedIndex).toBeLessThan(leaderInfo.commitIndex);
    // Asked for its own applied state (the client library would go on to a linearizable read,
    // which n3, cut off from every leader, cannot serve): it has not got the file.
    const stub = new LarderServiceClient(n3.address, lanClientCredentials(), nodeChannelOptions);
    const local = await new Promise<ServiceError | null>((resolve) =>
      stub.stat({ hash: up.hash, name: '', consistency: ReadConsistency.READ_CONSISTENCY_UNSPECIFIED }, (e) => resolve(e)),
    );
    stub.close();
    expect(local?.details).toMatch(/no file with hash/);
    // The two others keep their leader and their data.
    for (const n of others) await expect(cluster.client([n.address]).stat({ hash: up.hash })).resolves.toMatchObject({ hash: up.hash });
  }, 90_000);
});
