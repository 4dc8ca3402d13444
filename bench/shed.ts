/**
 * bench:shed — goodput and p99 latency of downloads and uploads as offered load rises from 0.5x
 * to 3x a node's measured capacity, with load shedding on and off, in one run.
 *
 * Workload: the seed's benchmark (../shared/seeds/003_*): first uploads of files, then ~99.5 %
 * downloads and ~0.5 % uploads, each request with a gRPC deadline. Arrivals are open-loop
 * (Poisson), so an overloaded node cannot slow them down. One node, a real `larder start`
 * process, pinned to CPU 0 when taskset exists; the load generator (this process) runs on CPU 1,
 * so the node's capacity, not the generator's, is what saturates.
 *
 * Capacity = the knee of the node with shedding off: open-loop rates rising from a closed loop's
 * figure in 3 s steps of 15 % while the node still serves >= 97 % of what is offered in time; the
 * best goodput of a passing step. (A closed loop of 128 users alone underestimated it by up to 2.4x:
 * its users wait on each other, and "3x" of it was barely above the peak.) Peak = the best
 * download goodput seen anywhere in the run. Target: with shedding on, download goodput at 3x
 * offered load >= 80 % of peak.
 *
 * Three sweeps: shedding off; shedding on with raw clients that send every request; shedding on
 * with clients that throttle as Larder's client library does (src/client/throttle.ts), holding
 * back part of the requests to a node that keeps refusing. Offered load is the same in all three.
 * The run ends with a cost model of refusals (below), which is what the throttling answers.
 *
 * One busy loop shares the node's core by default (--burners): the generator costs about a sixth
 * of what the node spends per download, and without it a node with a whole core to itself needs
 * more than the generator's core can offer at 3x. Each point prints the generator's own CPU; a
 * point where it was above 90 % is marked, as its figures are the generator's, not the node's.
 *
 * Options: --seconds per point (default 5), --deadline-ms (1000), --file-kib (255: one chunk), --files (100),
 * --multipliers (0.5,1,1.5,2,2.5,3), --concurrency (128), --burners (busy loops on the node's
 * CPU, default 1), --throttle-k (the third sweep's clients, default the client library's 2), --out (bench/out).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultThrottle } from '../src/client/throttle.js';
import {
  clientThrottleReason,
  runClosedLoop,
  runOpenLoop,
  percentile,
  shedTotal,
  type LoadResult,
  type StoredFileRef,
  type Workload,
} from '../src/loadgen/index.js';
import { TestCluster, pieces } from '../src/node/test/cluster-harness.js';
import { lineCharts } from './lib/svg-chart.js';
import { cpuDuring, goodputCeiling, throttledGoodputCeiling } from './lib/node-cpu.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'deadline-ms': { type: 'string' },
    'file-kib': { type: 'string' },
    files: { type: 'string' },
    multipliers: { type: 'string' },
    concurrency: { type: 'string' },
    out: { type: 'string' },
    burners: { type: 'string' },
    'throttle-k': { type: 'string' },
  },
});
const seconds = Number(values.seconds ?? 5);
const deadlineMs = Number(values['deadline-ms'] ?? 1000);
const fileBytes = Number(values['file-kib'] ?? 255) * 1024;
const fileCount = Number(values.files ?? 100);
const multipliers = (values.multipliers ?? '0.5,1,1.5,2,2.5,3').split(',').map(Number);
const concurrency = Number(values.concurrency ?? 128);
const outDir = path.resolve(values.out ?? 'bench/out');
const burnerCount = Number(values.burners ?? 1);
const kneeStepSeconds = 3;
/** The clients' throttle in the third sweep: the client library's, with k from --throttle-k if given. */
const clientThrottle = { ...defaultThrottle, k: Number(values['throttle-k'] ?? defaultThrottle.k) };

const pinned = existsSync('/usr/bin/taskset');
/** Above this share of its core, the generator, not the node, may be what limits a point. */
const generatorBusyPercent = 90;
if (pinned) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

/**
 * off: shedding off. on: the node sheds; every client sends every request (raw, as the open loop
 * does). throttled: the node sheds and the clients throttle as the client library does
 * (src/client/throttle.ts): requests to a node that keeps refusing are partly held back by the
 * client and never reach the node.
 */
type Mode = 'off' | 'on' | 'throttled';
const modeLabel: Record<Mode, string> = { off: 'off', on: 'on', throttled: 'on + client throttling' };

interface Point {
  readonly mode: Mode;
  readonly multiplier: number;
  readonly offeredPerSec: number;
  readonly result: LoadResult;
  /** The generator's CPU over the point, % of one core. */
  readonly generatorCpu: number;
  /** The node's CPU over the point, ms (all its threads). */
  readonly nodeCpuMs: number;
}

/** Runs one open-loop point and measures what it cost the generator itself. */
async function openLoopPoint(w: Workload, rate: number, secs: number): Promise<{ result: LoadResult; generatorCpu: number }> {
  const before = process.cpuUsage();
  const result = await runOpenLoop(w, rate, secs);
  const used = process.cpuUsage(before);
  return { result, generatorCpu: (used.user + used.system) / (10 * secs * 1000) };
}

/** Served in full and in time, as a share of what was offered (uploads aside). */
const servedShare = (r: LoadResult): number => r.download.ok / Math.max(1, r.download.offered);

/**
 * The node's capacity with shedding off: rates rise from `start` by 15 % while the node serves at
 * least 97 % of the offered downloads in time; the best goodput of a passing step.
 */
async function findKnee(eps: string[], files: StoredFileRef[], start: number): Promise<number> {
  let best = 0;
  for (let rate = start, step = 0; step < 12; rate *= 1.15, step++) {
    // 3 s steps can pass a rate that collapses when held for 15 s; 6 s steps, on a node still
    // cold from start, stopped at half the peak seen later. Neither is steady on these machines:
    // each run prints its offered load as a multiple of the peak it saw.
    const { result, generatorCpu } = await openLoopPoint(workload(eps, files, 50 + step), rate, kneeStepSeconds);
    const ok = servedShare(result) >= 0.97;
    console.error(
      `  knee: ${rate.toFixed(0)}/s offered, ${goodput(result, 'download').toFixed(0)}/s served (${(100 * servedShare(result)).toFixed(1)} %), p99 ${p99(result, 'download').toFixed(0)} ms, generator CPU ${generatorCpu.toFixed(0)} %`,
    );
    if (!ok) break;
    best = Math.max(best, goodput(result, 'download'));
    await sleep(1000); // let queues drain
  }
  if (best === 0) throw new Error(`the node could not serve even ${start.toFixed(0)} downloads/s in time: is the machine busy with something else?`);
  return best;
}

/**
 * Busy loops sharing the node's CPU. A Node gRPC client costs about what a Node gRPC server does
 * per request, so a generator on one core could not offer 3x what a node on the other core
 * serves; taking part of the node's core away makes the node, not the generator, the bottleneck
 * (and is the CPU pressure the shedding policies react to).
 */
function startBurners(): ChildProcess[] {
  const prefix = pinned ? ['taskset', '-c', '0'] : [];
  const [cmd, ...args] = [...prefix, process.execPath, '-e', 'for(;;){}'];
  return Array.from({ length: burnerCount }, () => spawn(cmd!, args, { stdio: 'ignore' }));
}

async function startNode(mode: 'on' | 'off'): Promise<{ cluster: TestCluster; files: StoredFileRef[] }> {
  const cluster = await TestCluster.start(1, { extraFlags: ['--shedding', mode, '--log-level', 'warn'], launcher: pinned ? ['taskset', '-c', '0'] : [] });
  await cluster.waitForLeader();
  const client = cluster.client();
  const files: StoredFileRef[] = [];
  for (let i = 0; i < fileCount; i++) {
    const data = randomBytes(fileBytes);
    const r = await client.upload({ name: `seed-${i}.bin`, mime: 'application/octet-stream', open: () => pieces(data) });
    files.push({ hash: r.hash, size: fileBytes });
  }
  return { cluster, files };
}

const workload = (endpoints: string[], files: StoredFileRef[], seed: number, throttle = false): Workload => ({
  endpoints,
  files,
  uploadShare: 0.005,
  uploadBytes: fileBytes,
  deadlineMs,
  seed,
  ...(throttle ? { clientThrottle } : {}),
});
const goodput = (r: LoadResult, kind: 'download' | 'upload'): number => r[kind].ok / r.seconds;
const p99 = (r: LoadResult, kind: 'download' | 'upload'): number => percentile(r[kind].latencies, 99);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The node's CPU while idle (Raft ticks, the load sampler), ms per second. */
async function idleCpuPerSec(pid: number): Promise<number> {
  return (await cpuDuring(pid, () => sleep(2000))).cpuMs / 2;
}

/**
 * What a refusal costs the node: CPU per download refused at header time, from a node that
 * refuses every download (memory threshold 0), offered `rate` per second beside the same busy loops.
 */
async function refusalCostMs(rate: number): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  const config = path.join(outDir, 'refuse-all.json');
  writeFileSync(config, JSON.stringify({ memory: { usedAbovePercent: 0 } }));
  const cluster = await TestCluster.start(1, {
    extraFlags: ['--admission-config', config, '--log-level', 'warn'],
    launcher: pinned ? ['taskset', '-c', '0'] : [],
  });
  const burners = startBurners();
  try {
    await cluster.waitForLeader();
    const pid = cluster.nodes[0]!.proc!.pid!;
    const files = [{ hash: '0'.repeat(64), size: fileBytes }]; // never looked up: refused first
    await runOpenLoop(workload(cluster.endpoints(), files, 7), rate / 2, 2); // warm up
    const idle = await idleCpuPerSec(pid);
    const { value, cpuMs } = await cpuDuring(pid, () => runOpenLoop(workload(cluster.endpoints(), files, 8), rate, seconds));
    return (cpuMs - idle * seconds) / Math.max(1, shedTotal(value.download));
  } finally {
    for (const b of burners) b.kill('SIGKILL');
    await cluster.stop();
  }
}

async function sweep(mode: Mode, capacity: number | null): Promise<{ capacity: number; points: Point[]; idleCpuPerSec: number }> {
  const { cluster, files } = await startNode(mode === 'off' ? 'off' : 'on');
  const throttle = mode === 'throttled';
  const burners = startBurners();
  try {
    const eps = cluster.endpoints();
    const idle = await idleCpuPerSec(cluster.nodes[0]!.proc!.pid!);
    // Warm the node's cache and JIT, then (once) find its capacity.
    await runClosedLoop(workload(eps, files, 1), concurrency, 2);
    const cap = capacity ?? (await findKnee(eps, files, goodput(await runClosedLoop(workload(eps, files, 2), concurrency, 3), 'download')));
    // The same warm-up at the capacity for both modes: the knee search warmed the first node for
    // half a minute, and a node fresh from start (JIT, heap sizes) costs more per request.
    await runOpenLoop(workload(eps, files, 3, throttle), cap, 5);
    await sleep(1000);
    const points: Point[] = [];
    for (const m of multipliers) {
      const rate = m * cap;
      const pid = cluster.nodes[0]!.proc!.pid!;
      const { value, cpuMs } = await cpuDuring(pid, () => openLoopPoint(workload(eps, files, 100 + Math.round(m * 10), throttle), rate, seconds));
      points.push({ mode, multiplier: m, offeredPerSec: rate, ...value, nodeCpuMs: cpuMs });
      console.error(`  shedding ${modeLabel[mode]} ${m}x: ${row(points.at(-1)!).join(' | ')}`);
      const { result } = value;
      const errs = [...result.download.errors, ...result.upload.errors];
      if (errs.length > 0 || result.download.timeout > 0)
        console.error(`    ${result.download.timeout} downloads timed out; errors: ${errs.slice(0, 3).join('; ')}`);
      await sleep(1000); // let queues drain between points
    }
    return { capacity: cap, points, idleCpuPerSec: idle };
  } finally {
    for (const b of burners) b.kill('SIGKILL');
    await cluster.stop();
  }
}

function row(p: Point): string[] {
  const r = p.result;
  const shedDown = shedTotal(r.download);
  const shedUp = shedTotal(r.upload);
  return [
    modeLabel[p.mode],
    `${p.multiplier}x`,
    p.offeredPerSec.toFixed(0),
    goodput(r, 'download').toFixed(0),
    p99(r, 'download').toFixed(1),
    `${shedDown} (${((100 * shedDown) / Math.max(1, r.download.offered)).toFixed(1)} %)${heldBack(r) > 0 ? `, ${heldBack(r)} by the client` : ''}`,
    String(r.download.timeout + r.download.error),
    `${r.upload.ok}/${r.upload.offered}`,
    p99(r, 'upload').toFixed(1),
    `${shedUp} (${((100 * shedUp) / Math.max(1, r.upload.offered)).toFixed(1)} %)`,
    `${(p.nodeCpuMs / (10 * seconds)).toFixed(0)} %`,
    `${p.generatorCpu.toFixed(0)} %${p.generatorCpu > generatorBusyPercent ? ' (generator-bound)' : ''}`,
  ];
}

/** Downloads the client's own throttle held back (never sent). */
const heldBack = (r: LoadResult): number => r.download.shed[clientThrottleReason] ?? 0;

async function main(): Promise<void> {
  console.log(
    `bench:shed: 1 node${pinned ? ' on CPU 0, load generator on CPU 1' : ' (taskset missing: node and generator share the CPUs)'}, ${burnerCount} busy loop(s) beside the node; ${fileCount} files of ${fileBytes / 1024} KiB; ${seconds} s per point; deadline ${deadlineMs} ms; 0.5 % uploads\n`,
  );
  const off = await sweep('off', null);
  const on = await sweep('on', off.capacity);
  const throttled = await sweep('throttled', off.capacity);
  const points = [...off.points, ...on.points, ...throttled.points];
  const peak = Math.max(off.capacity, ...points.map((p) => goodput(p.result, 'download')));
  const head = [
    'shedding',
    'offered',
    'req/s',
    'download goodput/s',
    'download p99 ms',
    'downloads shed',
    'downloads timed out/failed',
    'uploads ok',
    'upload p99 ms',
    'uploads shed',
    'node CPU',
    'generator CPU',
  ];
  console.log(`capacity (knee with shedding off, open loop): ${off.capacity.toFixed(0)} downloads/s; peak goodput seen: ${peak.toFixed(0)}/s\n`);
  console.log(`| ${head.join(' | ')} |\n| ${head.map(() => '---').join(' | ')} |`);
  for (const p of points) console.log(`| ${row(p).join(' | ')} |`);
  const top = Math.max(...multipliers);
  const at3 = on.points.find((p) => p.multiplier === top)!;
  const ratio = goodput(at3.result, 'download') / peak;
  console.log('');
  for (const p of [at3, throttled.points.find((q) => q.multiplier === top)!]) {
    const share = goodput(p.result, 'download') / peak;
    const reached = p.result.download.offered - heldBack(p.result);
    console.log(
      `shedding ${modeLabel[p.mode]}, ${p.multiplier}x offered (${p.offeredPerSec.toFixed(0)} req/s = ${(p.offeredPerSec / peak).toFixed(1)}x the peak goodput; ${(reached / p.result.seconds).toFixed(0)}/s reached the node): ` +
        `download goodput ${goodput(p.result, 'download').toFixed(0)}/s = ${(100 * share).toFixed(0)} % of peak, generator CPU ${p.generatorCpu.toFixed(0)} %, ${((100 * goodput(p.result, 'download')) / off.capacity).toFixed(0)} % of capacity (target >= 80 % of peak: ${share >= 0.8 ? 'PASS' : 'FAIL'})`,
    );
  }
  // Why the ratio is what it is: refusing is not free (HTTP/2 and TLS work per call, whatever
  // admission decides), so past the peak every refusal takes CPU from serving.
  const lightest = off.points.reduce((a, b) => (a.multiplier <= b.multiplier ? a : b));
  const serveMs = (lightest.nodeCpuMs - off.idleCpuPerSec * seconds) / Math.max(1, lightest.result.download.ok);
  // At least 2,000/s: a refusal costs the same whatever the file size, and at a few hundred per
  // second the node's idle CPU, subtracted, would be most of what is measured.
  const refuseMs = await refusalCostMs(Math.max(2000, 2 * off.capacity));
  const r = refuseMs / serveMs;
  const offeredOverPeak = at3.offeredPerSec / peak;
  const throttledAt3 = throttled.points.find((p) => p.multiplier === top)!;
  const throttledRatio = goodput(throttledAt3.result, 'download') / peak;
  const throttledCeiling = throttledGoodputCeiling(offeredOverPeak, r, clientThrottle.k);
  console.log(
    `cost per request on the node: serving ${(serveMs * 1000).toFixed(0)} us, refusing ${(refuseMs * 1000).toFixed(0)} us (r = ${r.toFixed(3)}); ` +
      `a perfect shedder offered ${offeredOverPeak.toFixed(1)}x the peak keeps at most (1 - ${offeredOverPeak.toFixed(1)} r) / (1 - r) = ${(100 * goodputCeiling(offeredOverPeak, r)).toFixed(0)} % of peak; measured ${(100 * ratio).toFixed(0)} %. ` +
      `With clients throttling (k = ${clientThrottle.k}): 1 / (1 + (k - 1) r) = ${(100 * throttledCeiling).toFixed(0)} %; measured ${(100 * throttledRatio).toFixed(0)} %`,
  );
  const offAt3 = off.points.find((p) => p.multiplier === at3.multiplier)!;
  console.log(
    `shedding off, ${at3.multiplier}x offered: download goodput ${goodput(offAt3.result, 'download').toFixed(0)}/s = ${((100 * goodput(offAt3.result, 'download')) / peak).toFixed(0)} % of peak, p99 ${p99(offAt3.result, 'download').toFixed(0)} ms`,
  );
  writeOutputs(points, peak, off.capacity, {
    serveMs,
    refuseMs,
    r,
    offeredOverPeak,
    ceiling: goodputCeiling(offeredOverPeak, r),
    measured: ratio,
    throttledCeiling,
    throttledMeasured: throttledRatio,
  });
}

function writeOutputs(points: Point[], peak: number, capacity: number, costModel: Record<string, number>): void {
  mkdirSync(outDir, { recursive: true });
  const series = (mode: Mode, f: (r: LoadResult) => number, color: string, dashed = false) => ({
    name: `shedding ${modeLabel[mode]}`,
    color,
    dashed,
    points: points.filter((p) => p.mode === mode).map((p) => [p.multiplier, f(p.result)] as const),
  });
  const svg = lineCharts(
    [
      {
        title: 'Download goodput',
        xLabel: 'offered load (x capacity)',
        yLabel: 'downloads served in full / s',
        series: [
          series('throttled', (r) => goodput(r, 'download'), '#0969da'),
          series('on', (r) => goodput(r, 'download'), '#1a7f37'),
          series('off', (r) => goodput(r, 'download'), '#cf222e', true),
        ],
        rules: [{ y: 0.8 * peak, label: '80 % of peak' }],
      },
      {
        title: 'Download p99 latency (served)',
        xLabel: 'offered load (x capacity)',
        yLabel: 'ms',
        series: [
          series('throttled', (r) => p99(r, 'download') || 0, '#0969da'),
          series('on', (r) => p99(r, 'download') || 0, '#1a7f37'),
          series('off', (r) => p99(r, 'download') || 0, '#cf222e', true),
        ],
        rules: [{ y: deadlineMs, label: 'deadline' }],
      },
      {
        title: 'Requests shed',
        xLabel: 'offered load (x capacity)',
        yLabel: '% of offered',
        series: [
          {
            name: 'uploads, shedding on',
            color: '#8250df',
            points: points
              .filter((p) => p.mode === 'on')
              .map((p) => [p.multiplier, (100 * shedTotal(p.result.upload)) / Math.max(1, p.result.upload.offered)] as const),
          },
          {
            name: 'downloads, shedding on',
            color: '#1a7f37',
            points: points
              .filter((p) => p.mode === 'on')
              .map((p) => [p.multiplier, (100 * shedTotal(p.result.download)) / Math.max(1, p.result.download.offered)] as const),
          },
          {
            name: 'downloads held back by the client (throttling)',
            color: '#0969da',
            dashed: true,
            points: points
              .filter((p) => p.mode === 'throttled')
              .map((p) => [p.multiplier, (100 * heldBack(p.result)) / Math.max(1, p.result.download.offered)] as const),
          },
        ],
      },
    ],
    `bench:shed ${new Date().toISOString()}: capacity ${capacity.toFixed(0)} downloads/s, peak ${peak.toFixed(0)}/s, ${fileBytes / 1024} KiB files, deadline ${deadlineMs} ms`,
  );
  const svgPath = path.join(outDir, 'shed.svg');
  writeFileSync(svgPath, svg);
  const summary = points.map((p) => ({
    mode: p.mode,
    multiplier: p.multiplier,
    offeredPerSec: p.offeredPerSec,
    download: { ...p.result.download, latencies: undefined, shedLatencies: undefined, p99: p99(p.result, 'download') },
    upload: { ...p.result.upload, latencies: undefined, shedLatencies: undefined, p99: p99(p.result, 'upload') },
  }));
  writeFileSync(
    path.join(outDir, 'shed.json'),
    JSON.stringify({ capacity, peak, fileBytes, deadlineMs, seconds, burners: burnerCount, costModel, points: summary }, null, 2),
  );
  console.log(`\nplot: ${path.relative(process.cwd(), svgPath)} (data: ${path.relative(process.cwd(), path.join(outDir, 'shed.json'))})`);
}

await main();
