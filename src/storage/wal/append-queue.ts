import { encodeRecord, type EncodedRecord, type EntryPlacement, type WalRecord } from './records.js';

/** Called once an append is on disk, with each record's entry placements (absolute offsets). */
export type DurableCallback = (segmentSeq: number, placementsByRecord: readonly EntryPlacement[][]) => void;

export interface PendingAppend {
  readonly records: readonly WalRecord[];
  /** Filled in by `encode`: frames with their checksums computed. */
  encoded: EncodedRecord[] | null;
  /** Size estimate for cutting rounds before the append is encoded. */
  readonly bytesEstimate: number;
  readonly sync: boolean;
  readonly onDurable: DurableCallback;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const RECORD_OVERHEAD_BYTES = 64;

export function estimateBytes(records: readonly WalRecord[]): number {
  let bytes = 0;
  for (const r of records) {
    bytes += RECORD_OVERHEAD_BYTES;
    if (r.type === 'entries') for (const e of r.entries) bytes += 32 + (e.kind === 'normal' ? e.data.length : 64);
  }
  return bytes;
}

export function encode(op: PendingAppend): EncodedRecord[] {
  op.encoded ??= op.records.map(encodeRecord);
  return op.encoded;
}

/**
 * Appends waiting for a round, checksummed in the background.
 *
 * Encoding (CRC-32C over every byte) is the WAL's main CPU cost. Done synchronously by each
 * writer, a burst of writers released together would hog the event loop, and the I/O of the round
 * in flight (its write finishing, its fdatasync being issued) would wait behind them. So while a
 * round is in flight, queued appends are encoded one per macrotask, letting I/O callbacks run in
 * between: checksumming overlaps the disk instead of alternating with it.
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
   * The oldest appends, up to `bytesMax` (at least one), encoded: what the pump has not reached
   * yet is encoded now. Taking all that waits keeps rounds large, and on this kind of disk one
   * fdatasync of 16 MiB costs little more than one of 4 MiB.
   */
  takeRound(bytesMax: number): PendingAppend[] {
    let bytes = 0;
    let n = 0;
    while (n < this.items.length && (n === 0 || bytes + this.items[n]!.bytesEstimate <= bytesMax)) bytes += this.items[n++]!.bytesEstimate;
    const round = this.items.splice(0, n);
    for (const op of round) encode(op);
    return round;
  }

  takeAll(): PendingAppend[] {
    return this.items.splice(0);
  }

  private pump(): void {
    this.pumpScheduled = false;
    const next = this.items.find((op) => op.encoded === null);
    if (next === undefined) return;
    encode(next);
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }
}
