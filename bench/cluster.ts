/**
 * bench:cluster — a local 3-node cluster (real `larder start` processes on 127.0.0.1, all on this
 * one disk and 2 cores) driven by the client library. etcd's figures (../shared/anchors/README.md,
 * 3 members on loopback, Node etcd3 client) are quoted beside ours for scale; the side-by-side
 * run in one process is the benchmark issue's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { LarderClient } from '../src/client/larder-client.js';
import { TestCluster, bytesOf, pieces, sleep } from '../src/node/test/cluster-harness.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, trials: { type: 'string' }, 'big-mib': { type: 'string' } } });
const seconds = Number(values.seconds ?? 5);
const trials = Number(values.trials ?? 10);
const bigMiB = Number(values['big-mib'] ?? 200);
const rows: string[][] = [];
const row = (figure: string, ours: string, etcd: string): void => void rows.push([figure, ours, etcd]);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `clients` loops uploading fresh `bytes`-sized files for `seconds`; returns ops/s and latencies. */
async function uploads(client: LarderClient, clients: number, bytes: number): Promise<{ perSecond: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < end) {
        const data = randomBytes(bytes);
        const t = performance.now();
        await client.upload({ name: 'b.bin', mime: 'application/octet-stream', open: () => pieces(data) });
        lat.push(performance.now() - t);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { perSecond: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function cachedDownloads(client: LarderClient, hash: string, clients: number): Promise<number> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < end) {
        await client.download({ hash }, () => {});
        n++;
      }
    }),
  );
  return n / seconds;
}

async function bigFile(cluster: TestCluster, client: LarderClient): Promise<void> {
  const size = bigMiB * 1024 * 1024;
  const piece = bytesOf(1024 * 1024, 5);
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < size / piece.length; i++) {
      piece.writeUInt32LE(i, 0);
      yield piece;
    }
  }
  let t = performance.now();
  const res = await client.upload({ name: 'big.bin', mime: 'application/octet-stream', size, open: source });
  const upMBs = size / 1e6 / ((performance.now() - t) / 1000);
  t = performance.now();
  const h = createHash('sha256');
  await client.download({ hash: res.hash }, (d) => void h.update(d));
  const downMBs = size / 1e6 / ((performance.now() - t) / 1000);
  if (h.digest('hex') !== res.hash) throw new Error('big file came back different');
  row(`${bigMiB} MiB file upload, MB/s`, upMBs.toFixed(1), '-');
  row(`${bigMiB} MiB file download, MB/s`, downMBs.toFixed(1), '-');
  void cluster;
}

/** kill -9 the leader; ms until another leader, and until an upload is acknowledged again. */
async function failover(cluster: TestCluster): Promise<{ leaderMs: number[]; uploadMs: number[] }> {
  const leaderMs: number[] = [];
  const uploadMs: number[] = [];
  for (let i = 0; i < trials; i++) {
    const leader = await cluster.waitForLeader();
    const others = cluster.nodes.filter((n) => n !== leader);
    const client = cluster.client(others.map((n) => n.address), 30_000);
    const killedAt = performance.now();
    cluster.kill(leader);
    const leaderWatch = (async () => {
      for (;;) {
        const infos = await Promise.all(others.map((n) => cluster.info(n)));
        if (infos.some((x) => x?.role === 'leader')) return performance.now() - killedAt;
        await sleep(5);
      }
    })();
    const data = randomBytes(1024);
    await client.upload({ name: 'f.bin', mime: 'application/octet-stream', open: () => pieces(data) });
    uploadMs.push(performance.now() - killedAt);
    leaderMs.push(await leaderWatch);
    cluster.launch(leader);
    await cluster.waitForApplied((await cluster.info(await cluster.waitForLeader()))!.commitIndex, 30_000);
  }
  return { leaderMs, uploadMs };
}

async function main(): Promise<void> {
  const cluster = await TestCluster.start(3, { extraFlags: ['--tick-ms', '100'] });
  try {
    await cluster.waitForLeader();
    const client = cluster.client(undefined, 120_000);
    for (const c of [1, 16, 64]) {
      const r = await uploads(client, c, 1024);
      const etcd = c === 1 ? '702 (p50 1.3 / p99 4.4 ms)' : c === 16 ? '2133' : '2797 (p50 22 ms)';
      row(`1 KiB uploads/s, ${c} client${c > 1 ? 's' : ''} (p50 / p99 ms)`, `${r.perSecond.toFixed(0)} (${r.p50.toFixed(1)} / ${r.p99.toFixed(1)})`, etcd);
    }
    const big = await uploads(client, 16, 64 * 1024);
    row('64 KiB uploads, 16 clients, MB/s', ((big.perSecond * 64 * 1024) / 1e6).toFixed(1), '45 (64 clients)');
    const small = randomBytes(1024);
    const stored = await client.upload({ name: 'hot.bin', mime: 'application/octet-stream', open: () => pieces(small) });
    row('downloads/s of a cached 1 KiB file, 64 clients', (await cachedDownloads(client, stored.hash, 64)).toFixed(0), '3146 (serializable get, 64 clients)');
    await bigFile(cluster, client);
    const f = await failover(cluster);
    const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
    row(`leader kill -9 -> new leader, ms (median [min-max] of ${trials})`, `${pct(sorted(f.leaderMs), 50).toFixed(0)} [${Math.min(...f.leaderMs).toFixed(0)}-${Math.max(...f.leaderMs).toFixed(0)}]`, '-');
    row(`leader kill -9 -> first acknowledged upload, ms (median [min-max])`, `${pct(sorted(f.uploadMs), 50).toFixed(0)} [${Math.min(...f.uploadMs).toFixed(0)}-${Math.max(...f.uploadMs).toFixed(0)}]`, '1217 [1062-3340] (first put)');
  } finally {
    await cluster.stop();
  }
  console.log('bench:cluster — 3 local nodes (tick 100 ms, election 1-2 s), client library over gRPC; etcd 3.4 figures quoted from ../shared/anchors/README.md');
  console.log('| figure | Larder | etcd anchor (Node etcd3 client) |\n| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

await main();
