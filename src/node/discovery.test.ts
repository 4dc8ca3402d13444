import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSecret } from '../trust/secret.js';
import { TestCluster, sleep, type TestNode } from './test/cluster-harness.js';
import { eventually, leaderInfo, readFrom, upload, votersOf } from './test/membership-helpers.js';

// Forming a cluster by mDNS alone, on the loopback interface (the netns variant runs across
// network namespaces: src/node/discovery-netns.exclusive.test.ts). Each test has its own cluster id, so
// test runs side by side on one machine never see each other's clusters.

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

function discoveryFlags(clusterId: string, expect: number): string[] {
  return ['--cluster-id', clusterId, '--discovery', 'mdns', '--mdns-interface', '127.0.0.1', '--expect', String(expect)];
}

describe('discovery over mDNS on loopback', () => {
  it('3 nodes form one cluster by mDNS alone; a 4th joins as a learner and is promoted; a rogue with a wrong secret gets nowhere', async () => {
    const clusterId = `disc-${randomBytes(4).toString('hex')}`;
    cluster = await TestCluster.start(0, { extraFlags: discoveryFlags(clusterId, 3) });
    const founders: TestNode[] = [];
    for (const id of ['n1', 'n2', 'n3']) founders.push(await cluster.define(id, 'discover'));
    for (const n of founders) cluster.launch(n);
    const c = cluster;
    await eventually('three voters', async () => ((await votersOf(c)).length === 3 ? true : null), c, 45_000);
    expect(founders[0]!.log.join('\n')).toMatch(/founded a new cluster/);
    for (const n of founders.slice(1)) expect(n.log.join('\n')).toMatch(/admitted to the cluster as a learner/);
    const before = await upload(cluster, 1);

    const n4 = await cluster.define('n4', 'discover');
    cluster.launch(n4);
    await eventually('n4 promoted', async () => ((await votersOf(c)).includes('n4') ? true : null), c, 45_000);
    const after = await upload(cluster, 2);
    for (const n of cluster.nodes) {
      expect(await readFrom(cluster, n, before)).toBe(before);
      expect(await readFrom(cluster, n, after)).toBe(after);
    }

    // A rogue: right cluster id, wrong secret. It hears the cluster over mDNS and asks to join.
    const termBefore = (await leaderInfo(cluster)).term;
    const rogue = await cluster.define('rogue', 'discover');
    cluster.launchWith(rogue, ['--cluster-secret', generateSecret()]);
    await eventually(
      'the rogue refused and logged',
      async () => (founders.some((n) => /refused a join from 127\.0\.0\.1/.test(n.log.join('\n'))) ? true : null),
      c,
    );
    await sleep(2000);
    const info = await leaderInfo(cluster);
    expect(info.peers.map((p) => p.id).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(info.term).toBe(termBefore);
    expect(rogue.log.join('\n')).toMatch(/refused this node's certificate/);
    expect(rogue.log.join('\n')).not.toMatch(/admitted to the cluster|founded a new cluster/);
  });
});
