import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, sleep } from './test/cluster-harness.js';
import { eventually, leaderInfo, readFrom, upload, votersOf } from './test/membership-helpers.js';

// A cluster restarted whole (issue 6).

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('restarting every node', () => {
  it('brings back the same cluster, with every file, including a member that joined later', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    await cluster.join('n4');
    const c = cluster;
    await eventually('n4 promoted', async () => ((await votersOf(c)).includes('n4') ? true : null), c);
    const hashes = [await upload(cluster, 1), await upload(cluster, 2), await upload(cluster, 3)];
    const before = await leaderInfo(cluster);
    await cluster.waitForApplied(before.commitIndex);
    for (const n of cluster.nodes) cluster.kill(n);
    await sleep(500);
    for (const n of cluster.nodes) cluster.launchWith(n, []);
    const after = await leaderInfo(cluster);
    expect(after.clusterId).toBe(before.clusterId);
    expect(after.term).toBeGreaterThan(before.term);
    expect(await votersOf(cluster)).toEqual(['n1', 'n2', 'n3', 'n4']);
    for (const n of cluster.nodes) for (const h of hashes) expect(await readFrom(cluster, n, h)).toBe(h);
    // Still one working cluster: a new upload commits and reaches the late joiner.
    const fresh = await upload(cluster, 4);
    expect(await readFrom(cluster, cluster.node('n4'), fresh)).toBe(fresh);
  });
});
