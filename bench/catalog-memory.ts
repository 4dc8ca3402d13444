/**
 * bench: catalog memory. How much RAM a node's catalog takes with 100,000 files, and how long
 * a restart takes to reload it from disk (NeDB holds every document in memory).
 *
 *   npx tsx bench/catalog-memory.ts [--files 100000] [--keep]
 *
 * 1. Builds the catalog the way a node does: every file goes through the replicated commands
 *    (acquireLock, commitFile, releaseLock: 3 entries per file), applied by StateMachine.rebuild,
 *    which writes the datafile atomically. Manifests are realistic: names, MIME types, 1–8 chunks
 *    of 255 KiB (the last one partial). Chunk bytes are not written: the catalog is measured.
 * 2. Reloads it in a fresh child process, which this script starts with --expose-gc itself (no
 *    flag needed): StateMachine.open = streaming read of the datafile + zod validation of every
 *    document + digest + NeDB insert + reference counts + file order. Reports RSS after full GCs,
 *    once it has settled, against the target: under 300 MB. The child runs under tsx like the
 *    parent, whose loader adds ~30 MB to the baseline; a packaged node would sit that much lower.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from '../src/raft/rand.js';
import { CHUNK_SIZE_MAX_BYTES, encodeCommand, fileLockKey, type FileManifest } from '../src/store/index.js';
import { catalogPath, StateMachine, type LogEntryData } from '../src/store/state-machine.js';

const RSS_TARGET_MB = 300;
const { values } = parseArgs({ options: { files: { type: 'string' }, load: { type: 'string' }, keep: { type: 'boolean' } } });

const words = ['invoice', 'holiday', 'report', 'scan', 'IMG', 'backup', 'notes', 'budget', 'thesis', 'recipe', 'contract', 'slides'];
const kinds: [string, string][] = [
  ['jpg', 'image/jpeg'],
  ['png', 'image/png'],
  ['pdf', 'application/pdf'],
  ['mp4', 'video/mp4'],
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['zip', 'application/zip'],
  ['txt', 'text/plain'],
];

const hashOf = (s: string) => createHash('sha256').update(s).digest('hex');

function manifestFor(i: number, rand: ReturnType<typeof seededRandom>): FileManifest {
  const chunkCount = 1 + rand.int(8);
  const last = 1 + rand.int(CHUNK_SIZE_MAX_BYTES);
  const chunks = Array.from({ length: chunkCount }, (_v, j) => ({ hash: hashOf(`chunk-${i}-${j}`), size: j === chunkCount - 1 ? last : CHUNK_SIZE_MAX_BYTES }));
  const [ext, mime] = kinds[rand.int(kinds.length)] ?? ['bin', 'application/octet-stream'];
  const name = `${words[rand.int(words.length)]}-${2020 + rand.int(6)}-${String(i).padStart(6, '0')} (${words[rand.int(words.length)]}).${ext}`;
  const size = chunks.reduce((s, c) => s + c.size, 0);
  return { hash: hashOf(`file-${i}`), name, size, mime, chunks, createdAtMs: 1_700_000_000_000 + i * 1_000, viaNode: `node-${rand.int(5)}` };
}

function* entriesFor(files: number): Generator<LogEntryData> {
  const rand = seededRandom(2026);
  let index = 0;
  const entry = (data: Uint8Array): LogEntryData => ({ index: ++index, data });
  for (let i = 0; i < files; i++) {
    const manifest = manifestFor(i, rand);
    const key = fileLockKey(manifest.hash);
    const nowMs = manifest.createdAtMs;
    yield entry(encodeCommand({ type: 'acquireLock', key, holder: `client-${i % 7}`, ttlMs: 30_000, nowMs }));
    const token = index;
    yield entry(encodeCommand({ type: 'commitFile', manifest, token, nowMs: nowMs + 500 }));
    yield entry(encodeCommand({ type: 'releaseLock', key, token }));
  }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * RSS once it stops falling: after a GC, V8 hands freed pages back to the OS on a background
 * thread, so RSS read right after gc() still counts them (measured: ~390 MB, then ~280 MB 2 s later).
 */
async function settledRss(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 20; round++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const rss = process.memoryUsage().rss;
    if (last - rss < 1024 * 1024) return Math.min(last, rss);
    last = rss;
  }
  return last;
}

/** The child: reload from disk and measure. Prints one JSON line. */
async function loadPhase(dataDir: string): Promise<void> {
  const baselineRss = await settledRss();
  const t0 = performance.now();
  const sm = await StateMachine.open({ dataDir, fsync: false });
  const reloadMs = performance.now() - t0;
  const rss = await settledRss();
  const { heapUsed } = process.memoryUsage();
  const q0 = performance.now();
  const page = await sm.catalog.listFiles({ limit: 50 });
  const pageMs = performance.now() - q0;
  const q1 = performance.now();
  const found = await sm.catalog.listFiles({ limit: 50, nameContains: 'thesis-2024' });
  const filterMs = performance.now() - q1;
  const s0 = performance.now();
  const snapshot = await sm.snapshot();
  const snapshotMs = performance.now() - s0;
  console.log(
    JSON.stringify({
      gcExposed: gc !== undefined,
      baselineRss,
      rss,
      heapUsed,
      reloadMs,
      pageMs,
      pageFiles: page.files.length,
      filterMs,
      filterFiles: found.files.length,
      snapshotBytes: snapshot.length,
      snapshotMs,
      appliedIndex: sm.appliedIndex,
    }),
  );
}

async function main(): Promise<void> {
  if (values.load !== undefined) return loadPhase(values.load);
  const files = Number(values.files ?? 100_000);
  const dataDir = await mkdtemp(join(tmpdir(), 'larder-catalog-bench-'));
  try {
    console.log(`catalog-memory: ${files.toLocaleString('en')} files, data dir ${dataDir}`);
    const t0 = performance.now();
    const sm = await StateMachine.open({ dataDir, fsync: false });
    await sm.rebuild(null, entriesFor(files));
    await sm.close();
    const buildMs = performance.now() - t0;
    const fileBytes = (await stat(catalogPath(dataDir))).size;
    console.log(
      `  build: ${(3 * files).toLocaleString('en')} entries applied in ${(buildMs / 1000).toFixed(1)} s (${Math.round((3 * files) / (buildMs / 1000)).toLocaleString('en')} entries/s); datafile ${mb(fileBytes)} MB`,
    );
    const self = fileURLToPath(import.meta.url);
    const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', self, '--load', dataDir], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (child.status !== 0) throw new Error(`load phase failed (${child.status}): ${child.stderr}`);
    const line = child.stdout.trim().split('\n').pop() ?? '{}';
    const m = JSON.parse(line) as Record<string, number | boolean>;
    const rssMb = mb(Number(m.rss));
    console.log(
      `  reload: ${(Number(m.reloadMs) / 1000).toFixed(2)} s (read + zod validation + digest + NeDB insert + reference counts + order), applied index ${m.appliedIndex}`,
    );
    console.log(
      `  memory after reload${m.gcExposed ? ', full GCs, RSS settled' : ' (no --expose-gc: no forced GC)'}: RSS ${rssMb} MB (process baseline ${mb(Number(m.baselineRss))} MB), heap used ${mb(Number(m.heapUsed))} MB`,
    );
    console.log(
      `  queries: newest 50 in ${Number(m.pageMs).toFixed(1)} ms; name filter 'thesis-2024' (${m.filterFiles} hits, first page) in ${Number(m.filterMs).toFixed(1)} ms`,
    );
    console.log(`  snapshot: ${mb(Number(m.snapshotBytes))} MB in ${(Number(m.snapshotMs) / 1000).toFixed(2)} s`);
    console.log(`${rssMb < RSS_TARGET_MB ? 'PASS' : 'FAIL'}: RSS ${rssMb} MB with ${files.toLocaleString('en')} files (target: under ${RSS_TARGET_MB} MB)`);
    if (rssMb >= RSS_TARGET_MB) process.exitCode = 1;
  } finally {
    if (values.keep !== true) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
