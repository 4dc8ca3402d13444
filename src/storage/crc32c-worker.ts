/**
 * CRC-32C of large payloads on a worker thread.
 *
 * Checksumming is the WAL's main CPU cost for large entries (~1 GB/s on one core with the wasm
 * kernel). Done on the main thread, it caps WAL bandwidth at that rate and delays the I/O
 * callbacks of the round in flight. Offloaded, the main thread only copies each payload into a
 * worker's shared wasm memory (memcpy speed) and keeps writing and syncing while the workers checksum.
 *
 * Each worker runs the same wasm kernel as crc32c.ts (crc32c-wasm.ts), in place over that copy,
 * taken when the job is handed to it. Integrity is unchanged: the caller gets the CRC of exactly
 * the bytes it passed (as they were at dispatch), and recovery and reads verify it as before.
 * If the worker cannot start or dies, pending and later jobs are computed on the main thread.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { crc32cTables, crc32cUpdate } from './crc32c.js';
import { TABLES_BYTES, moduleBytes } from './crc32c-wasm.js';

/** Payloads below this are checksummed inline: a round trip to the worker costs about what 64 KiB of CRC does. */
export const OFFLOAD_MIN_BYTES = 64 * 1024;
/** Each job is copied into one of the worker's slots; larger payloads go through in slot-sized pieces. */
const SLOT_BYTES = 1 << 20;
/** Jobs handed to a worker at once (its slots): enough that it never waits for the next. */
const SLOTS = 3;
const PAGE_BYTES = 65536;

// Runs in the worker as a CommonJS script (eval), so it needs no loader for TypeScript. It
// checksums in place, in the shared memory the main thread copied the bytes into.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { wasmBytes, memory } = workerData;
const crc = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), { env: { memory } }).exports.crc;
parentPort.on('message', (job) => parentPort.postMessage({ id: job.id, crc: crc(job.seed, job.offset, job.length) >>> 0 }));
`;

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no DOM, which is where its types live). */
interface SharedMemoryApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => { readonly buffer: SharedArrayBuffer };
}

interface Job {
  readonly bytes: Uint8Array;
  readonly resolve: (crc: number) => void;
  /** The CRC of `bytes[0, covered)`; `bytes[covered, at)` is with the worker. */
  seed: number;
  covered: number;
  at: number;
  slot: number;
}

class CrcWorker {
  private worker: Worker | null = null;
  private memory: Uint8Array | null = null;
  private nextId = 1;
  private readonly waiting: Job[] = [];
  private readonly inFlight = new Map<number, Job>();
  private readonly freeSlots = Array.from({ length: SLOTS }, (_, i) => i);

  constructor() {
    try {
      const pages = Math.ceil((TABLES_BYTES + SLOTS * SLOT_BYTES) / PAGE_BYTES);
      const wasm = (globalThis as { WebAssembly?: SharedMemoryApi }).WebAssembly;
      if (wasm === undefined) return;
      const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
      new Int32Array(memory.buffer, 0, TABLES_BYTES / 4).set(crc32cTables());
      const worker = new Worker(workerSource, { eval: true, workerData: { wasmBytes: moduleBytes(pages), memory }, execArgv: [] });
      worker.unref();
      worker.on('message', (m: { id: number; crc: number }) => this.done(m.id, m.crc));
      worker.on('error', () => this.fallBack(worker));
      worker.on('exit', () => this.fallBack(worker));
      this.worker = worker;
      this.memory = new Uint8Array(memory.buffer);
    } catch {
      this.worker = null;
    }
  }

  /** crc32cUpdate(seed, bytes), computed on the worker. Never rejects: falls back to this thread. */
  update(seed: number, bytes: Uint8Array): Promise<number> {
    if (this.worker === null) return Promise.resolve(crc32cUpdate(seed, bytes));
    return new Promise((resolve) => {
      this.waiting.push({ bytes, resolve, seed, covered: 0, at: 0, slot: -1 });
      this.dispatch();
    });
  }

  private dispatch(): void {
    const worker = this.worker;
    const memory = this.memory;
    if (worker === null || memory === null) return;
    while (this.freeSlots.length > 0 && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      job.slot = this.freeSlots.pop()!;
      const offset = TABLES_BYTES + job.slot * SLOT_BYTES;
      const length = Math.min(SLOT_BYTES, job.bytes.length - job.at);
      memory.set(job.bytes.subarray(job.at, job.at + length), offset);
      job.at += length;
      if (this.inFlight.size === 0) worker.ref(); // a reply is pending: keep the process alive for it
      const id = this.nextId++;
      this.inFlight.set(id, job);
      worker.postMessage({ id, seed: job.seed, offset, length });
    }
  }

  private done(id: number, crc: number): void {
    const job = this.inFlight.get(id);
    if (job === undefined) return;
    this.inFlight.delete(id);
    this.freeSlots.push(job.slot);
    job.seed = crc;
    job.covered = job.at;
    const finished = job.covered === job.bytes.length;
    if (!finished) this.waiting.unshift(job); // its next piece, before anything else
    this.dispatch();
    if (this.inFlight.size === 0) this.worker?.unref();
    if (finished) job.resolve(crc);
  }

  /** The worker failed: finish everything here, and from now on checksum inline. */
  private fallBack(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    // Each job goes on from the last piece the worker finished.
    const jobs = [...this.inFlight.values(), ...this.waiting.splice(0)];
    this.inFlight.clear();
    for (const job of jobs) job.resolve(crc32cUpdate(job.seed, job.bytes, job.covered));
    void worker.terminate();
  }
}

/**
 * Two workers where there are two cores: one alone checksums at ~1 GB/s, about the page cache's
 * pace, so a second keeps the disk fed while the first waits on its next job.
 */
const WORKERS = Math.max(1, Math.min(2, os.availableParallelism()));
let pool: CrcWorker[] | null = null;
let turn = 0;

/** Extends `seed` with all of `bytes` on the shared checksum workers (started on first use). */
export function crc32cUpdateOffloaded(seed: number, bytes: Uint8Array): Promise<number> {
  pool ??= Array.from({ length: WORKERS }, () => new CrcWorker());
  turn = (turn + 1) % pool.length;
  return pool[turn]!.update(seed, bytes);
}
