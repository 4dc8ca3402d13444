import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Announcement } from './announcement.js';
import { MdnsDiscovery, type DiscoveryRejection, type MdnsDiscoveryOptions } from './mdns.js';

/**
 * Real mDNS on 127.0.0.1 only (never the machine's real interfaces): `interface` picks loopback
 * for sending and membership, `bind: '0.0.0.0'` lets the socket receive the group's datagrams.
 * Cluster ids are unique per run, since other tests may be multicasting on loopback too.
 */

const run = `t${process.pid.toString(36)}${Date.now().toString(36)}`;
let clusters = 0;
const newCluster = (): string => `${run}-${++clusters}`;

const options = (clusterId: string, nodeId: string, grpcPort: number): MdnsDiscoveryOptions => ({
  announce: { clusterId, nodeId, host: '127.0.0.1', grpcPort, protocol: 1 },
  interface: '127.0.0.1',
  bind: '0.0.0.0',
  ttlSeconds: 2,
  intervalMs: 500,
});

const running: MdnsDiscovery[] = [];
const warnings: Error[] = [];
async function startNode(clusterId: string, nodeId: string, grpcPort: number): Promise<MdnsDiscovery> {
  const d = new MdnsDiscovery(options(clusterId, nodeId, grpcPort));
  d.on('warning', (err) => warnings.push(err));
  running.push(d);
  await d.start();
  return d;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 4000): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

const ids = (d: MdnsDiscovery): string[] => d.peers().map((p) => p.nodeId);

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop({ goodbye: false })));
  expect(warnings.splice(0)).toEqual([]);
});

describe('mDNS discovery on loopback', () => {
  it('three nodes of one cluster find each other within seconds; another cluster stays out', async () => {
    const cluster = newCluster();
    const [a, b, c] = await Promise.all([startNode(cluster, 'a', 7001), startNode(cluster, 'b', 7002), startNode(cluster, 'c', 7003)]);
    const stranger = await startNode(newCluster(), 'a0', 7009);
    const rejected: DiscoveryRejection[] = [];
    a!.on('rejected', (r) => rejected.push(r));

    const took = await waitFor('everyone to see everyone', () => ids(a!).join() === 'b,c' && ids(b!).join() === 'a,c' && ids(c!).join() === 'a,b');
    expect(took).toBeLessThan(3000);
    expect(b!.peers().find((p) => p.nodeId === 'a')).toEqual<Announcement>(a!.announcement);
    await waitFor('the stranger to be reported as foreign', () => rejected.some((r) => r.reason === 'foreign-cluster'));
    expect(rejected.find((r) => r.reason === 'foreign-cluster')).toMatchObject({ from: '127.0.0.1', instance: expect.stringContaining('a0') });
    expect(stranger.peers()).toEqual([]);
  });

  it('a clean stop is seen at once, through its goodbye', async () => {
    const cluster = newCluster();
    const [a, b] = await Promise.all([startNode(cluster, 'a', 7001), startNode(cluster, 'b', 7002)]);
    await waitFor('discovery', () => ids(b!).join() === 'a');
    const lost = new Promise<string>((resolve) => b!.on('lost', (p, why) => resolve(`${p.nodeId} ${why}`)));
    const stoppedAt = Date.now();
    await a!.stop();
    expect(await lost).toBe('a goodbye');
    expect(Date.now() - stoppedAt).toBeLessThan(1000); // well under the 2 s TTL
    expect(b!.peers()).toEqual([]);
  });

  it('a crashed node (no goodbye) disappears once its TTL runs out', async () => {
    const cluster = newCluster();
    const [a, b] = await Promise.all([startNode(cluster, 'a', 7001), startNode(cluster, 'b', 7002)]);
    await waitFor('discovery', () => ids(b!).join() === 'a');
    const lost = new Promise<string>((resolve) => b!.on('lost', (p, why) => resolve(`${p.nodeId} ${why}`)));
    await a!.stop({ goodbye: false });
    const gone = await waitFor('a to expire', () => ids(b!).length === 0, 3000);
    expect(gone).toBeGreaterThan(100); // not a goodbye: it had to time out
    expect(await lost).toBe('a expired');
  });

  it('reports another node announcing our node id from another address', async () => {
    const cluster = newCluster();
    const a = await startNode(cluster, 'a', 7001);
    const conflicts: DiscoveryRejection[] = [];
    a.on('rejected', (r) => r.reason === 'node-id-conflict' && conflicts.push(r));
    await startNode(cluster, 'a', 7555);
    await waitFor('the conflict', () => conflicts.length > 0);
    expect(conflicts[0]?.detail).toContain('127.0.0.1:7555');
    expect(a.peers()).toEqual([]);
  });

  it('several processes on one machine share the mDNS port', async () => {
    const cluster = newCluster();
    const local = await startNode(cluster, 'local', 7001);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./test/mdns-child.ts', import.meta.url)), JSON.stringify(options(cluster, 'remote', 7002))],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const lines: Record<string, unknown>[] = [];
    child.stdout.on('data', (d: Buffer) =>
      lines.push(
        ...d
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
    );
    try {
      await waitFor('the other process to see us', () => lines.some((l) => l['peer'] === 'local'), 10_000);
      await waitFor('us to see the other process', () => ids(local).join() === 'remote');
      child.stdin.end(); // clean stop: its goodbye should reach us
      await waitFor('its goodbye', () => ids(local).length === 0, 1500);
    } finally {
      child.kill();
    }
  });
});
