import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { segmentFiles } from '../storage/test/fixtures.js';
import { TestCluster } from './test/cluster-harness.js';
import { eventually, exited, leaderInfo, membershipOf, readFrom, upload } from './test/membership-helpers.js';

// Issue 3's way out of a corrupt write-ahead log, end to end: the node refuses to start and names
// the command; the command re-joins it as a learner with the cluster's copy of the data.

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('--rebuild-from-peers', () => {
  it('a node whose WAL is corrupt before its tail refuses to start, names the command, and the command brings it back with every file', async () => {
    cluster = await TestCluster.start(3);
    await cluster.waitForLeader();
    const hashes = [await upload(cluster, 1), await upload(cluster, 2)];
    const victim = cluster.node('n3');
    await cluster.waitForApplied((await leaderInfo(cluster)).commitIndex);
    cluster.kill(victim);
    // One flipped byte early in the first segment: not a torn tail, so recovery must refuse.
    const first = segmentFiles(join(victim.dataDir, 'raft'))[0]!;
    const bytes = readFileSync(first);
    expect(bytes.length).toBeGreaterThan(4096);
    bytes[200]! ^= 0x5a;
    writeFileSync(first, bytes);
    const whileDown = await upload(cluster, 3, cluster.endpoints().slice(0, 2));

    cluster.launchWith(victim, []);
    expect(await exited(victim)).toBe(1);
    const refusal = victim.log.join('\n');
    expect(refusal).toMatch(/write-ahead log is corrupt/);
    expect(refusal).toContain(first);
    expect(refusal).toContain(`larder start --data-dir ${victim.dataDir} --rebuild-from-peers`);

    cluster.launchWith(victim, ['--rebuild-from-peers']);
    const c = cluster;
    for (const h of [...hashes, whileDown]) expect(await eventually(`n3 serving ${h.slice(0, 8)}`, () => readFrom(c, victim, h).catch(() => null), c)).toBe(h);
    await eventually('n3 a voter again', async () => (membershipOf(await leaderInfo(c), 'n3') === 'voter' ? true : null), c);
    // The damaged state was moved aside, not deleted.
    const aside = readdirSync(victim.dataDir).filter((d) => d.startsWith('damaged-'));
    expect(aside).toHaveLength(1);
    expect(existsSync(join(victim.dataDir, aside[0]!, 'raft', 'wal'))).toBe(true);
    // And the rebuilt node is a full member: an upload through it commits.
    const after = await upload(cluster, 4, [victim.address]);
    expect(await readFrom(cluster, cluster.node('n1'), after)).toBe(after);
  });
});
