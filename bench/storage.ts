/**
 * bench:storage — how fast the write-ahead log makes Raft entries durable, next to what this
 * machine's disk does raw, measured in the same directory in the same run.
 *
 * - 1 KiB entries, 1 and 64 concurrent appenders, each awaiting its own durable `save` in a loop.
 *   Raw: 1 KiB write + fdatasync per op (anchors/scripts/fsync-append.js).
 *   Target: 64 appenders reach >= 10x the raw one-sync-per-append rate (group commit works).
 * - 255 KiB entries (a file chunk each), 64 appenders, MB/s. Raw: sequential 1 MiB writes then
 *   one fsync (anchors/scripts/seq-write.js). Target: >= 70 % of raw.
 *
 * Options: --seconds (per 1 KiB figure, default 5), --mib (data for the bandwidth figures, default 256),
 * --skip-catalog-memory (leave out the catalog engineer's section, which takes minutes).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DurableStorage } from '../src/storage/index.js';
import { silentStorageLogger } from '../src/storage/logger.js';
import { rawFsyncAppendsPerSecond, rawSequentialMBps } from './storage/raw-disk.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, mib: { type: 'string' }, 'skip-catalog-memory': { type: 'boolean' } } });
const seconds = Number(values.seconds ?? 5);
const mib = Number(values.mib ?? 256);
const root = mkdtempSync(path.join(os.tmpdir(), 'larder-bench-storage-'));

interface AppendRun {
  appendsPerSecond: number;
  mbPerSecond: number;
  syncsPerSecond: number;
}

/** `appenders` loops, each saving one entry of `entryBytes` and awaiting it, until time or bytes run out. */
async function walAppends(appenders: number, entryBytes: number, limit: { seconds: number } | { bytes: number }): Promise<AppendRun> {
  const dir = mkdtempSync(path.join(root, 'wal-'));
  const storage = await DurableStorage.open(dir, { logger: silentStorageLogger });
  const data = randomBytes(entryBytes);
  let next = 1;
  const started = performance.now();
  const deadlineMs = 'seconds' in limit ? started + limit.seconds * 1000 : Infinity;
  const entriesMax = 'bytes' in limit ? Math.ceil(limit.bytes / entryBytes) : Infinity;
  const appender = async (): Promise<void> => {
    while (next <= entriesMax && performance.now() < deadlineMs) {
      // Indexes are taken in call order, which is the order saves are validated and written in.
      const index = next++;
      await storage.save({ entries: [{ kind: 'normal', index, term: 1, data }], hardState: null, snapshot: null, mustSync: true });
    }
  };
  await Promise.all(Array.from({ length: appenders }, appender));
  const elapsedSeconds = (performance.now() - started) / 1000;
  const appends = storage.lastIndex();
  const { syncs } = storage.stats();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  return { appendsPerSecond: appends / elapsedSeconds, mbPerSecond: (appends * entryBytes) / 1e6 / elapsedSeconds, syncsPerSecond: syncs / elapsedSeconds };
}

function catalogMemorySection(): string {
  // Hook for the catalog engineer: bench/catalog-memory.ts prints its own section when it exists.
  const script = fileURLToPath(new URL('./catalog-memory.ts', import.meta.url));
  if (!existsSync(script)) return 'catalog memory: see bench/catalog-memory.ts';
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  return `${child.stdout}${child.stderr}`.trim() || `catalog memory: bench/catalog-memory.ts exited with ${child.status} and printed nothing`;
}

const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

try {
  console.log(`bench:storage in ${root} (${os.cpus().length} CPUs, Node ${process.version}); ${seconds} s per 1 KiB figure, ${mib} MiB per bandwidth figure\n`);
  const rawSyncRate = rawFsyncAppendsPerSecond(root, seconds);
  const one = await walAppends(1, 1024, { seconds });
  const many = await walAppends(64, 1024, { seconds });
  const rawSeq = rawSequentialMBps(root, mib);
  const chunks = await walAppends(64, 255 * 1024, { bytes: mib * 1048576 });
  const syncRatio = many.appendsPerSecond / rawSyncRate;
  const bandwidthRatio = chunks.mbPerSecond / rawSeq;
  console.log(row(['figure', 'Larder WAL', 'raw disk, same dir and run', 'ratio', 'target']));
  console.log(row(['---', '---', '---', '---', '---']));
  console.log(
    row([
      '1 KiB appends/s, 1 appender',
      fmt(one.appendsPerSecond),
      `${fmt(rawSyncRate)} (write + fdatasync per op)`,
      `${(one.appendsPerSecond / rawSyncRate).toFixed(2)}x`,
      '-',
    ]),
  );
  console.log(
    row([
      '1 KiB appends/s, 64 appenders',
      `${fmt(many.appendsPerSecond)} (${fmt(many.syncsPerSecond)} fdatasync/s)`,
      `${fmt(rawSyncRate)} (write + fdatasync per op)`,
      `${syncRatio.toFixed(1)}x`,
      `>= 10x: ${syncRatio >= 10 ? 'PASS' : 'FAIL'}`,
    ]),
  );
  console.log(
    row([
      '255 KiB entries MB/s, 64 appenders',
      `${chunks.mbPerSecond.toFixed(0)} (${fmt(chunks.appendsPerSecond)} entries/s)`,
      `${rawSeq.toFixed(0)} (${mib} MiB sequential, then fsync)`,
      `${(bandwidthRatio * 100).toFixed(0)} %`,
      `>= 70 %: ${bandwidthRatio >= 0.7 ? 'PASS' : 'FAIL'}`,
    ]),
  );
  if (!values['skip-catalog-memory']) console.log(`\n${catalogMemorySection()}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
