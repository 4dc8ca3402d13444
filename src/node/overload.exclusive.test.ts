import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile, runClosedLoop, runOpenLoop, shedTotal, type StoredFileRef, type Workload } from '../loadgen/index.js';
import { TestCluster, pieces } from './test/cluster-harness.js';

/**
 * A node driven well past its capacity with the seed's benchmark mix (99.5 % downloads, 0.5 %
 * uploads, each with a 1 s gRPC deadline), real processes on 127.0.0.1. The node runs on CPU 0
 * beside a busy loop (CPU pressure the shedding policies see); the load generator runs here, on
 * CPU 1, speaking raw HTTP/2 so that it is not the bottleneck.
 *
 * LARDER_OVERLOAD_FLAGS passes flags to the node: with "--shedding off" this test fails (the node
 * collapses), which is how to see that it can.
 */
const pinned = existsSync('/usr/bin/taskset');
const onNodeCpu = pinned ? ['taskset', '-c', '0'] : [];
const deadlineMs = 1000;
const fileBytes = 255 * 1024;
/** Download goodput under 3x overload must stay at least this fraction of the unloaded peak. */
const GOODPUT_FRACTION_MIN = 0.5;
/** At most this share of downloads may time out instead of being served or refused. */
const TIMEOUT_FRACTION_MAX = 0.05;

describe('overload: a node far past its capacity keeps serving downloads', () => {
  let cluster: TestCluster;
  let files: StoredFileRef[];
  let burner: ChildProcess | null = null;

  beforeAll(async () => {
    // This test file runs alone (scripts/run-tests.mjs): the generator takes CPU 1, the node CPU 0.
    if (pinned) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    cluster = await TestCluster.start(1, {
      extraFlags: [
        '--log-level',
        'warn',
        '--shed-policies',
        'memory,priority,cpu-band,deadline',
        ...(process.env['LARDER_OVERLOAD_FLAGS']?.split(' ').filter(Boolean) ?? []),
      ],
      launcher: onNodeCpu,
    });
    await cluster.waitForLeader();
    const client = cluster.client();
    files = [];
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(fileBytes);
      const r = await client.upload({ name: `seed-${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data) });
      files.push({ hash: r.hash, size: fileBytes });
    }
  }, 60_000);

  afterAll(async () => {
    if (pinned) execFileSync('taskset', ['-p', '-c', `0-${os.cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
    burner?.kill('SIGKILL');
    await cluster?.stop();
  });

  it('sheds uploads before downloads, keeps download goodput, answers in time, and loses no acknowledged upload', async () => {
    const workload = (seed: number): Workload => ({ endpoints: cluster.endpoints(), files, uploadShare: 0.005, uploadBytes: 4096, deadlineMs, seed });
    // The busy loop is part of the node's world from here on: the peak is measured beside it too.
    const [cmd, ...args] = [...onNodeCpu, process.execPath, '-e', 'for(;;){}'];
    burner = spawn(cmd!, args, { stdio: 'ignore' });
    await runClosedLoop(workload(1), 64, 1); // warm the cache and the JIT
    const unloaded = await runClosedLoop(workload(2), 64, 3);
    const peak = unloaded.download.ok / unloaded.seconds;
    expect(peak, 'the unloaded node serves downloads').toBeGreaterThan(20);

    const r = await runOpenLoop(workload(3), 3 * peak, 8);
    burner.kill('SIGKILL');
    burner = null;

    const down = r.download;
    const up = r.upload;
    const goodput = down.ok / r.seconds;
    const report = JSON.stringify({
      peak,
      goodput,
      down: { ...down, latencies: down.latencies.length, shedLatencies: down.shedLatencies.length },
      up: { ...up, latencies: up.latencies.length, shedLatencies: up.shedLatencies.length },
    });
    // Uploads are shed first: a larger share of them than of downloads.
    expect(up.offered, report).toBeGreaterThan(10);
    expect(shedTotal(up) / up.offered, report).toBeGreaterThan(shedTotal(down) / down.offered);
    // No congestion collapse: most of the unloaded goodput survives 3x the load.
    expect(goodput, report).toBeGreaterThanOrEqual(GOODPUT_FRACTION_MIN * peak);
    // Served requests finish inside their deadline. Refused ones are mostly refused at the door,
    // at once (a few wait in the queue first and are refused when their turn comes too late),
    // and few are left to time out: the client hears "not now" instead of nothing.
    expect(percentile(down.latencies, 99), report).toBeLessThan(deadlineMs);
    expect(percentile(down.shedLatencies, 50), report).toBeLessThan(deadlineMs / 4);
    expect(down.timeout, report).toBeLessThanOrEqual(TIMEOUT_FRACTION_MAX * down.offered);
    expect(down.error + up.error, report).toBe(0);

    console.log(`overload: ${report}`);
    // Every acknowledged upload is there, byte for byte (its hash is checked on read).
    const client = cluster.client();
    for (const hash of r.acked) {
      let bytes = 0;
      const info = await client.download({ hash }, (d) => void (bytes += d.length));
      expect(info.hash).toBe(hash);
      expect(bytes).toBe(4096);
    }
  }, 120_000);
});
