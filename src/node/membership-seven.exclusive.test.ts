import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, sleep } from './test/cluster-harness.js';
import { eventually, leaderInfo, readFrom, upload, votersOf } from './test/membership-helpers.js';

// A cluster bigger than its voter cap (issue 6). Seven node processes on two cores: this file runs
// alone, after the others (scripts/run-tests.mjs), so that its timing says something about the
// cluster rather than about the test workers beside it.

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
    await cluster.waitForApplied((await leaderInfo(cluster)).commitIndex);
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
