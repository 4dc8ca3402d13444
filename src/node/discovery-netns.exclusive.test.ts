import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLan, netnsAvailable } from '../discovery/test/netns.js';
import type { ClusterInfoResponse } from '../shared/proto/larder/v1/store.js';
import { generateSecret } from '../trust/secret.js';
import { sleep } from './test/cluster-harness.js';

// Discovery across hosts: one node per network namespace, the namespaces joined by a bridge of
// their own (src/discovery/test/netns.ts). The nodes know nothing of each other but the cluster
// id and secret: they must find each other over mDNS. Where namespaces cannot be made (no root,
// no `ip`), the test is reported as skipped with the reason, never as passed.

const repo = resolve(import.meta.dirname, '../..');
const availability = await netnsAvailable();
if (!availability.ok) console.warn(`discovery across network namespaces SKIPPED: ${availability.why}`);

const port = 7401;
let lan: NetnsLan;
let root: string;
const secret = generateSecret();
const clusterId = `lan-${process.pid}`;

function startNode(i: number): void {
  const h = lan.host(i);
  const args = [
    ...['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'start'],
    ...['--node-id', `n${i}`, '--data-dir', join(root, `n${i}`), '--listen', `${h.ip}:${port}`],
    ...['--cluster-id', clusterId, '--cluster-secret', secret, '--discovery', 'mdns', '--mdns-interface', h.ip, '--expect', '3'],
    ...['--tick-ms', '50', '--shed-policies', 'memory,deadline', '--log-level', 'info'],
  ];
  const child = lan.spawn(i, process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = (d: Buffer): void => void logs[i]!.push(...d.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
}
const logs: string[][] = [[], [], [], [], []];

/** Runs the one-shot client inside namespace `i` (the test process cannot reach the namespaces). */
async function client<T>(i: number, ...args: string[]): Promise<T> {
  const { stdout } = await lan.exec(i, process.execPath, ['--import', 'tsx', join(repo, 'src/node/test/netns-client.ts'), ...args], 30_000);
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

const addressOf = (i: number): string => `${lan.host(i).ip}:${port}`;

async function voters(i: number): Promise<string[]> {
  const info = await client<ClusterInfoResponse>(i, 'info', addressOf(i)).catch(() => null);
  const leader = info?.leaderAddress ? await client<ClusterInfoResponse>(i, 'info', info.leaderAddress).catch(() => null) : null;
  return (leader?.peers ?? [])
    .filter((p) => p.membership === 'voter')
    .map((p) => p.id)
    .sort();
}

async function waitForVoters(want: string[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < end) {
    seen = await voters(1);
    if (JSON.stringify(seen) === JSON.stringify(want)) return;
    await sleep(500);
  }
  throw new Error(`voters ${JSON.stringify(seen)}, wanted ${JSON.stringify(want)}\n${logs.map((l, i) => `--- n${i}\n${l.slice(-10).join('\n')}`).join('\n')}`);
}

describe.skipIf(!availability.ok)('discovery across network namespaces (one node per namespace, a bridge between)', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'larder-netns-'));
    lan = await NetnsLan.create(4);
  });
  afterAll(async () => {
    await lan?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('3 nodes form one cluster by mDNS alone; a 4th joins as a learner and is promoted; files uploaded before and after are readable everywhere', async () => {
    for (const i of [1, 2, 3]) startNode(i);
    await waitForVoters(['n1', 'n2', 'n3']);
    const before = (await client<{ hash: string }>(2, 'put', addressOf(2), '1')).hash;
    startNode(4);
    await waitForVoters(['n1', 'n2', 'n3', 'n4']);
    const after = (await client<{ hash: string }>(4, 'put', addressOf(4), '2')).hash;
    for (const i of [1, 2, 3, 4]) {
      expect((await client<{ sha: string }>(i, 'get', addressOf(i), before)).sha, `n${i}`).toBe(before);
      expect((await client<{ sha: string }>(i, 'get', addressOf(i), after)).sha, `n${i}`).toBe(after);
    }
    // Exactly one founder; the others were admitted (no second cluster was ever started).
    const founded = [1, 2, 3, 4].filter((i) => logs[i]!.some((l) => l.includes('founded a new cluster')));
    const admitted = [1, 2, 3, 4].filter((i) => logs[i]!.some((l) => l.includes('admitted to the cluster as a learner')));
    expect(founded).toEqual([1]);
    expect(admitted).toEqual([2, 3, 4]);
  }, 180_000);
});
