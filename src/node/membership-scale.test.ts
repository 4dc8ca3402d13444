import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, sleep } from './test/cluster-harness.js';
import { eventually, leaderInfo, readFrom, upload, votersOf } from './test/membership-helpers.js';

// A cluster bigger than its voter cap, and a cluster restarted whole (issue 6).

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('more nodes than voters', () => {
  it('7 nodes: exactly 5 voters; a voter dead past the grace period gives its seat to a replica while commits go on', async () => {
    const graceMs = 3000;
    cluster = await TestCluster.start(7, { extraFlags: ['--voter-grace-ms', String(graceMs)] });
    const leader = await cluster.waitForLeader();
    expect(await votersOf(cluster)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    const first = await upload(cluster, 1);
    // Replicas hold every file too.
    for (const id of ['n6', 'n7']) expect(await readFrom(cluster, cluster.node(id), first)).toBe(first);

    // Commits run throughout: one upload after another, each acknowledged time recorded.
    const victim = cluster.nodes.find((n) => n !== leader && ['n1', 'n2', 'n3', 'n4', 'n5'].includes(n.id))!;
    const live = (): string[] => cluster!.nodes.filter((n) => n.proc).map((n) => n.address);
    const acks: number[] = [Date.now()];
    let writing = true;
    const writer = (async () => {
      for (let seed = 100; writing; seed++) {
        await upload(cluster!, seed, live(), 10_000);
        acks.push(Date.now());
      }
    })();
    await sleep(1000);
    const killedAt = Date.now();
    cluster.kill(victim);
    const c = cluster;
    const voters = await eventually(
      'a replica promoted in place of the dead voter',
      async () => {
        const v = await votersOf(c);
        return v.length === 5 && !v.includes(victim.id) ? v : null;
      },
      c,
      30_000,
    );
    const promotedAfterMs = Date.now() - killedAt;
    await sleep(1000);
    writing = false;
    await writer;
    acks.push(Date.now());
    const longestGapMs = Math.max(...acks.slice(1).map((t, i) => t - acks[i]!));
    console.log(
      `7 nodes: ${victim.id} killed; voters now ${voters.join(',')} after ${promotedAfterMs} ms; ${acks.length - 2} uploads acknowledged meanwhile, longest gap ${longestGapMs} ms`,
    );
    expect(voters.some((id) => id === 'n6' || id === 'n7')).toBe(true);
    expect(promotedAfterMs).toBeGreaterThan(graceMs);
    expect(acks.length - 2).toBeGreaterThan(3);
    // Losing one voter of five never stops commits: no gap near an election timeout, let alone the grace period.
    expect(longestGapMs).toBeLessThan(graceMs);
    const membership = (await leaderInfo(cluster)).peers.find((p) => p.id === victim.id)?.membership;
    expect(membership).toBe('learner');
  });
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
