/**
 * bench:serve — what one download costs the node, by file size and by how much data is stored.
 * One node (shedding off) pinned to CPU 0, the generator on CPU 1; after storing --files files of
 * --file-kib KiB, a closed loop of 1 and then --users users downloads them at random; the node's
 * CPU per download comes from /proc. It shows, for instance, that a download whose chunks miss the
 * cache (more data stored than --cache-bytes, 64 MiB by default) costs about 3x one that hits:
 * 255 KiB x 400 files, 16 users: 1.9 ms per download with the default cache, 0.57 ms with 256 MiB.
 *
 * Options: --file-kib (255), --files (100), --users (16), --seconds (4), --cache-bytes (node default).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runClosedLoop, type StoredFileRef } from '../src/loadgen/index.js';
import { TestCluster, pieces } from '../src/node/test/cluster-harness.js';
import { cpuDuring } from './lib/node-cpu.js';

const { values } = parseArgs({
  options: {
    'file-kib': { type: 'string' },
    files: { type: 'string' },
    users: { type: 'string' },
    seconds: { type: 'string' },
    'cache-bytes': { type: 'string' },
  },
});
const fileKib = Number(values['file-kib'] ?? 255);
const fileCount = Number(values.files ?? 100);
const users = Number(values.users ?? 16);
const seconds = Number(values.seconds ?? 4);
const cacheFlags = values['cache-bytes'] ? ['--cache-bytes', values['cache-bytes']] : [];

const pinned = existsSync('/usr/bin/taskset');
if (pinned) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const cluster = await TestCluster.start(1, {
  extraFlags: ['--log-level', 'warn', '--shedding', 'off', ...cacheFlags],
  launcher: pinned ? ['taskset', '-c', '0'] : [],
});
try {
  await cluster.waitForLeader();
  const pid = cluster.nodes[0]!.proc!.pid!;
  const client = cluster.client();
  const files: StoredFileRef[] = [];
  for (let i = 0; i < fileCount; i++) {
    const data = randomBytes(fileKib * 1024);
    const r = await client.upload({ name: `serve-${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data) });
    files.push({ hash: r.hash, size: data.length });
  }
  const workload = (seed: number) => ({ endpoints: cluster.endpoints(), files, uploadShare: 0, uploadBytes: 0, deadlineMs: 10_000, seed });
  await runClosedLoop(workload(1), users, 2); // warm up: JIT, cache
  console.log(
    `bench:serve: ${fileCount} files of ${fileKib} KiB (${((fileCount * fileKib) / 1024).toFixed(0)} MiB stored)${cacheFlags.length ? `, --cache-bytes ${values['cache-bytes']}` : ''}`,
  );
  for (const n of [1, users]) {
    const { value, cpuMs } = await cpuDuring(pid, () => runClosedLoop(workload(2), n, seconds));
    const ok = value.download.ok;
    console.log(
      `  ${n} user(s): ${(ok / seconds).toFixed(0)} downloads/s, ${((ok * fileKib) / 1024 / seconds).toFixed(0)} MiB/s, node CPU ${(cpuMs / (10 * seconds)).toFixed(0)} %, ` +
        `${((cpuMs * 1000) / Math.max(1, ok)).toFixed(0)} us per download = ${((cpuMs * 1024) / Math.max(1, ok * fileKib)).toFixed(2)} ms per MiB`,
    );
  }
} finally {
  await cluster.stop();
}
