import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './test/cluster-harness.js';
import { eventually, exited, leaderInfo, membershipOf, readFrom, upload } from './test/membership-helpers.js';

// Joining, leaving and removing members with real `larder start` processes on 127.0.0.1 (issue 6).

const bin = resolve(import.meta.dirname, '../../bin/larder.mjs');
/** The `larder` command line, as a user runs it. */
const larder = (args: string[]): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(process.execPath, [bin, ...args]);

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('joining a running cluster', () => {
  it('a 4th node joins as a learner, catches up, is promoted, and serves files uploaded before and after', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const before = await upload(cluster, 1);
    const n4 = await cluster.join('n4');
    const c = cluster;
    await eventually('n4 joining as a learner or voter', async () => membershipOf(await leaderInfo(c), 'n4'), c);
    const voter = await eventually('n4 promoted to voter', async () => (membershipOf(await leaderInfo(c), 'n4') === 'voter' ? true : null), c);
    expect(voter).toBe(true);
    expect(n4.log.join('\n')).toMatch(/admitted to the cluster as a learner/);
    const after = await upload(cluster, 2);
    for (const n of cluster.nodes) {
      expect(await readFrom(cluster, n, before)).toBe(before);
      expect(await readFrom(cluster, n, after)).toBe(after);
    }
    const info = await leaderInfo(cluster);
    expect(
      info.peers
        .filter((p) => p.membership === 'voter')
        .map((p) => p.id)
        .sort(),
    ).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('a node restarted with its data dir rejoins as itself, with every file', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const n4 = await cluster.join('n4');
    const c = cluster;
    await eventually('n4 promoted', async () => (membershipOf(await leaderInfo(c), 'n4') === 'voter' ? true : null), c);
    cluster.kill(n4);
    const whileDown = await upload(cluster, 3);
    cluster.launchWith(n4, []);
    expect(await eventually('n4 serving the file uploaded while it was down', () => readFrom(c, n4, whileDown).catch(() => null), c)).toBe(whileDown);
    expect(n4.log.join('\n')).not.toMatch(/admitted to the cluster as a learner.*\n.*admitted/);
    expect((await leaderInfo(cluster)).peers.map((p) => p.id).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
  });
});

describe('leaving and removing', () => {
  it('larder leave: the node hands off, is removed, stops, and refuses to restart until rebuilt from peers', async () => {
    cluster = await TestCluster.start(4);
    const leader = await cluster.waitForLeader();
    const hash = await upload(cluster, 4);
    // The leader leaves: the hardest case (it must hand over leadership as it goes).
    const gone = exited(leader);
    const left = await larder(['--nodes', leader.address, 'leave', '--token', cluster.token]);
    expect(left.stdout).toContain(`${leader.id} left cluster "larder" and stopped`);
    expect(await gone).toBe(0);
    leader.proc = null;
    const c = cluster;
    const info = await eventually(
      'a new leader without the old one',
      async () => {
        const i = await c.info(await c.waitForLeader());
        return i && !i.peers.some((p) => p.id === leader.id) ? i : null;
      },
      c,
    );
    expect(info.peers).toHaveLength(3);
    await upload(
      cluster,
      5,
      cluster.nodes.filter((n) => n !== leader).map((n) => n.address),
    );
    cluster.launchWith(leader, []);
    expect(await exited(leader)).not.toBe(0);
    expect(leader.log.join('\n')).toMatch(/--rebuild-from-peers/);
    cluster.launchWith(leader, ['--rebuild-from-peers']);
    expect(await eventually('the old leader back, serving the file', () => readFrom(c, leader, hash).catch(() => null), c)).toBe(hash);
    await eventually('it is a voter again', async () => (membershipOf(await leaderInfo(c), leader.id) === 'voter' ? true : null), c);
  });

  it('larder remove <id> takes a dead member out; a wrong token is refused', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const n3 = cluster.node('n3');
    cluster.kill(n3);
    const nodes = cluster.endpoints().slice(0, 2).join(',');
    const refused = await larder(['--nodes', nodes, 'remove', 'n3', '--token', 'not-the-token']).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/wrong host token/);
    expect((await larder(['--nodes', nodes, 'remove', 'n3', '--token', cluster.token])).stdout).toContain('removed n3 from the cluster');
    const listed = await larder(['--nodes', nodes, 'members']);
    expect(listed.stdout).toMatch(/n1.*voter/);
    expect(listed.stdout).not.toMatch(/n3/);
    const c = cluster;
    const info = await eventually(
      'n3 gone from the membership',
      async () => {
        const i = await leaderInfo(c);
        return i.peers.some((p) => p.id === 'n3') ? null : i;
      },
      c,
    );
    expect(info.peers.map((p) => p.id).sort()).toEqual(['n1', 'n2']);
    // Two voters left, both needed: commits still go through.
    await upload(cluster, 6, cluster.endpoints().slice(0, 2));
  });
});
