import { encodeRecordOffloaded, type EncodedRecord, type EntryPlacement, type WalRecord } from './records.js';

/** Called once an append is on disk, with each record's entry placements (absolute offsets). */
export type DurableCallback = (segmentSeq: number, placementsByRecord: readonly EntryPlacement[][]) => void;

export interface PendingAppend {
  readonly records: readonly WalRecord[];
  /** Filled in by `encode` (at once, or when `encoding` settles): frames with their checksums computed. */
  encoded: EncodedRecord[] | null;
  /** Set by `encode` while large payloads are checksummed on the worker thread. */
  encoding: Promise<void> | null;
  /** Size estimate for cutting rounds before the append is encoded. */
  readonly bytesEstimate: number;
  readonly sync: boolean;
  readonly onDurable: DurableCallback;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const RECORD_OVERHEAD_BYTES = 64;
/** How much the background pump checksums before yielding to the event loop (~0.3 ms of CRC). */
const PUMP_SLICE_BYTES = 256 * 1024;

export function estimateBytes(records: readonly WalRecord[]): number {
  let bytes = 0;
  for (const r of records) {
    bytes += RECORD_OVERHEAD_BYTES;
    if (r.type === 'entries') for (const e of r.entries) bytes += 32 + (e.kind === 'normal' ? e.data.length : 64);
  }
  return bytes;
}

/** Starts encoding `op` (if not started): done at once, or (large payloads) once `op.encoding` settles. */
export function encode(op: PendingAppend): void {
  if (op.encoded !== null || op.encoding !== null) return;
  const records = op.records.map(encodeRecordOffloaded);
  if (records.every((r): r is EncodedRecord => !(r instanceof Promise))) {
    op.encoded = records;
    return;
  }
  op.encoding = Promise.all(records).then((done) => {
    op.encoded = done;
  });
}

/**
 * Appends waiting for a round, checksummed in the background.
 *
 * Encoding (CRC-32C over every byte) is the WAL's main CPU cost. Done synchronously by each
 * writer, a burst of writers released together would hog the event loop, and the I/O of the round
 * in flight (its write finishing, its fdatasync being issued) would wait behind them. So while a
 * round is in flight, queued appends are encoded a slice at a time, one slice per macrotask,
 * letting I/O callbacks run in between: checksumming overlaps the disk instead of alternating with it.
 * Payloads of OFFLOAD_MIN_BYTES and more are checksummed on worker threads (crc32c-worker.ts):
 * such an append's `encoding` settles when its CRCs are in, and the writer awaits it.
 */
export class AppendQueue {
  private readonly items: PendingAppend[] = [];
  private pumpScheduled = false;

  get length(): number {
    return this.items.length;
  }

  push(op: PendingAppend, encodeNow: boolean): void {
    if (encodeNow) encode(op);
    this.items.push(op);
    if (!encodeNow && !this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /**
   * The oldest appends, up to `bytesMax` (at least one), with encoding started: what the pump has
   * not reached yet is started now (the writer awaits each one's `encoding`). With `half`, at most half of what waits: used when the pipeline starts
   * from empty, so that a burst of writers forms two rounds that then alternate, one syncing
   * while the other's writers prepare their next appends, instead of one round that leaves the
   * CPU idle during its sync and the disk idle afterwards.
   */
  takeRound(bytesMax: number, half: boolean): PendingAppend[] {
    const waitingBytes = half ? this.items.reduce((sum, op) => sum + op.bytesEstimate, 0) : Infinity;
    const limit = Math.min(bytesMax, Math.ceil(waitingBytes / 2));
    let bytes = 0;
    let n = 0;
    while (n < this.items.length && (n === 0 || bytes + this.items[n]!.bytesEstimate <= limit)) bytes += this.items[n++]!.bytesEstimate;
    const round = this.items.splice(0, n);
    for (const op of round) encode(op);
    return round;
  }

  takeAll(): PendingAppend[] {
    return this.items.splice(0);
  }

  /**
   * Encodes queued appends up to ~PUMP_SLICE_BYTES of main-thread CRC per macrotask: small ones in
   * batches, large ones one by one. Large payloads go to the checksum worker: starting those costs
   * a copy, not a slice of the budget.
   */
  private pump(): void {
    this.pumpScheduled = false;
    let budget = PUMP_SLICE_BYTES;
    for (const op of this.items) {
      if (budget <= 0) break;
      if (op.encoded !== null || op.encoding !== null) continue;
      encode(op);
      if (op.encoded !== null) budget -= op.bytesEstimate;
    }
    if (this.items.some((op) => op.encoded === null && op.encoding === null)) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }
}
