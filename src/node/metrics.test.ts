import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderClient } from '../client/larder-client.js';
import { LarderClientError } from '../client/retry.js';
import { TestCluster, bytesOf, pieces } from './test/cluster-harness.js';
import { eventually } from './test/membership-helpers.js';

// Admission control as a client sees it: live metrics, the CLI's view, settings from flags and
// a JSON file, and a shed answer end to end. Real `larder start` processes on 127.0.0.1.

const repo = resolve(import.meta.dirname, '../..');
let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('node metrics', () => {
  it('Health, ClusterInfo and a WatchMetrics stream report queues, counts and load; `larder cluster` prints them', async () => {
    cluster = await TestCluster.start(1, { extraFlags: ['--shed-policies', 'memory,priority,cpu-band,deadline'] });
    await cluster.waitForLeader();
    const [ep] = cluster.endpoints();
    const client = cluster.client();
    const health = await client.health(ep!);
    expect(health).toMatchObject({ serving: true, role: 'leader', nodeId: 'n1' });
    expect(health.admission).toMatchObject({ workers: 3, policies: ['memory', 'priority', 'cpu-band', 'deadline'] });
    expect(health.admission?.uploads?.capacity).toBe(64);
    expect(health.admission?.downloads?.capacity).toBe(512);

    const data = bytesOf(300_000, 7);
    const up = await client.upload({ name: 'm.bin', mime: 'application/octet-stream', open: () => pieces(data) });
    const stop = new AbortController();
    const samples = [];
    for await (const s of client.watchMetrics(ep!, 100, stop.signal)) {
      samples.push(s);
      if (samples.length === 1) await client.download({ hash: up.hash }, () => {});
      if (samples.length === 4) stop.abort();
    }
    expect(samples.map((s) => s.nodeId)).toEqual(['n1', 'n1', 'n1', 'n1']);
    expect(samples[3]!.atMs - samples[0]!.atMs).toBeGreaterThanOrEqual(250);
    const first = samples[0]!.admission!;
    const last = samples[3]!.admission!;
    expect(first.uploads?.completed).toBe(1);
    expect(last.downloads!.completed - first.downloads!.completed).toBe(1);
    expect(last.load!.memUsedPercent).toBeGreaterThan(0);
    expect(last.load!.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(last.load!.eventLoopPercent).toBeGreaterThan(0); // it served a download and streamed samples
    expect(last.load!.eventLoopPercent).toBeLessThanOrEqual(100);
    expect(samples[3]!.commitIndex).toBeGreaterThanOrEqual(samples[0]!.commitIndex);
    const info = await client.clusterInfo(ep);
    expect(info.admission?.downloads?.accepted).toBeGreaterThanOrEqual(1);

    const { stdout } = await promisify(execFile)(process.execPath, [join(repo, 'bin/larder.mjs'), 'cluster'], { env: { ...process.env, LARDER_NODES: ep } });
    expect(stdout).toMatch(/load and admission/);
    expect(stdout).toMatch(/event loop/);
    expect(stdout).toMatch(/memory,priority,cpu-band,deadline/);
  }, 60_000);

  it('takes its settings from flags and from an admission JSON file', async () => {
    cluster = await TestCluster.start(1, { extraFlags: ['--shedding', 'off', '--workers', '5'] });
    await cluster.waitForLeader();
    const off = await cluster.client().health(cluster.endpoints()[0]!);
    expect(off.admission).toMatchObject({ workers: 5, policies: [] });
    expect(off.admission?.downloads?.capacity).toBeGreaterThan(1e6); // off: nothing bounds the line
    await cluster.stop();

    const file = join(mkdtempSync(join(tmpdir(), 'larder-admission-')), 'admission.json');
    writeFileSync(file, JSON.stringify({ downloadQueue: 7, cpuBands: { enabled: false } }));
    cluster = await TestCluster.start(1, { extraFlags: ['--admission-config', file, '--shed-policies', 'deadline,cpu-band'] });
    await cluster.waitForLeader();
    const some = await cluster.client().health(cluster.endpoints()[0]!);
    // The flag picks the policies; the file's other settings stay.
    expect(some.admission).toMatchObject({ policies: ['cpu-band', 'deadline'] });
    expect(some.admission?.downloads?.capacity).toBe(7);
  }, 60_000);

  it('a shed request reaches the client as RESOURCE_EXHAUSTED with its reason and retry-after hint, counted as shed', async () => {
    // Memory "in use" above 0 %: always true, so the memory policy sheds everything.
    const file = join(mkdtempSync(join(tmpdir(), 'larder-admission-')), 'admission.json');
    writeFileSync(file, JSON.stringify({ memory: { usedAbovePercent: 0 } }));
    cluster = await TestCluster.start(1, { extraFlags: ['--admission-config', file] });
    await cluster.waitForLeader();
    // The policy reads the sampler's last sample: wait for the first one (a fixed sleep was too short on a busy CI machine).
    await eventually(
      'the first load sample',
      async () => ((await cluster!.client().health(cluster!.endpoints()[0]!)).admission?.load?.atMs ?? 0) > 0 || null,
      cluster,
      10_000,
    );
    const shedSeen: number[] = [];
    const client = new LarderClient({ endpoints: cluster.endpoints(), retry: { baseDelayMs: 10, deadlineMs: 3000 }, onShed: (_e, ms) => shedSeen.push(ms) });
    const err = await client.download({ hash: 'a'.repeat(64) }, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarderClientError);
    expect(err).toMatchObject({ shed: true, grpcCode: status.RESOURCE_EXHAUSTED });
    expect((err as Error).message).toMatch(/too busy to take the download now \(memory: memory use .* is above 0 %\)/);
    expect(shedSeen.length).toBeGreaterThanOrEqual(1);
    expect(shedSeen[0]).toBeGreaterThanOrEqual(200); // the hint: base 200 ms + expected wait
    expect(client.stats()).toMatchObject({ failed: 1, failedShed: 1 });
    expect(client.stats().shed).toBe(client.stats().attempts);
    const health = await client.health(cluster.endpoints()[0]!);
    expect(health.admission?.downloads?.shed?.memory).toBe(client.stats().attempts);
    client.close();
  }, 60_000);
});
