import type { FileHandle } from 'node:fs/promises';
import { StorageError, diskFull, isDiskFull } from '../errors.js';
import { writeAll, writeAllSync } from '../fs-util.js';
import type { StorageLogger } from '../logger.js';
import { AppendQueue, estimateBytes, type DurableCallback, type PendingAppend } from './append-queue.js';
import type { EntryPlacement, WalRecord } from './records.js';
import { recoverSegments, type ReplayVisitor } from './recovery.js';
import { SegmentSet, type Segment } from './segments.js';

export interface WalOptions {
  /** Where error messages tell the user to look, and what to rebuild. */
  readonly dataDir: string;
  /** A segment is closed and a new one begun once it reaches this size. */
  readonly segmentBytesMax: number;
  /** One group commit writes at most this much (but always at least one append). */
  readonly roundBytesMax: number;
  readonly logger: StorageLogger;
  /** The state a new segment opens with, so that any suffix of segments replays on its own. */
  segmentHeader(): { prevIndex: number; prevTerm: number; records: WalRecord[] };
  /** Every queued append was rejected (disk full, failed write): forget what they promised. */
  onAbort(error: StorageError): void;
}

interface WrittenRound {
  readonly ops: PendingAppend[];
  readonly segment: Segment;
  readonly start: number;
}

/**
 * Below this, a round is copied into one buffer (one iovec is cheaper than hundreds of tiny ones)
 * and written synchronously (into the page cache: cheaper than a thread-pool round trip).
 */
const COALESCE_BYTES_MAX = 512 * 1024;

/** Every part of a round whose appends are all encoded: one buffer when small, else the list (writev). */
function roundParts(ops: readonly PendingAppend[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const op of ops) {
    for (const r of op.encoded!) {
      total += r.byteLength;
      for (const part of r.parts) parts.push(part);
    }
  }
  if (parts.length < 8 || total > COALESCE_BYTES_MAX) return parts;
  const joined = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return [joined];
}

/**
 * Writes a round whose large payloads are still being checksummed on the workers: each run of
 * encoded appends is written as soon as it is ready, so the page-cache copy of the first appends
 * overlaps the checksumming of the later ones. An append's bytes (its table of contents holds the
 * CRCs) are only written once encoded, and the writes are issued one after the other, never
 * concurrently: a process killed mid-round must leave a prefix of the round (a torn tail recovery
 * cuts), not a hole followed by valid records (which recovery rightly calls corruption).
 */
async function writeAsChecksummed(handle: FileHandle, ops: readonly PendingAppend[], start: number): Promise<number> {
  let position = start;
  let run: Uint8Array[] = [];
  const flush = async (): Promise<void> => {
    if (run.length > 0) position += await writeAll(handle, run, position);
    run = [];
  };
  for (const op of ops) {
    if (op.encoded === null) {
      await flush();
      await op.encoding;
    }
    for (const r of op.encoded!) run.push(...r.parts);
  }
  await flush();
  return position - start;
}

function resolveAll(ops: readonly PendingAppend[]): void {
  for (const op of ops) op.resolve();
}

export interface WalStats {
  readonly segments: number;
  readonly rounds: number;
  readonly syncs: number;
}

/**
 * The write-ahead log: an ordered list of segment files, the last one being appended to.
 *
 * Group commit: `append` queues; one round at a time writes everything queued (one writev) and
 * then fdatasyncs once, so N concurrent appenders share one sync. Records queued behind a round
 * in flight are checksummed meanwhile (see AppendQueue).
 */
export class Wal {
  private readonly segments: SegmentSet;
  private readonly queue = new AppendQueue();
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private pushWaiter: ((synced: false) => void) | null = null;
  private failure: StorageError | null = null;
  private rounds = 0;
  private syncs = 0;

  private constructor(
    private readonly walDir: string,
    private readonly opts: WalOptions,
  ) {
    this.segments = new SegmentSet(walDir, opts.dataDir);
  }

  /** Recovers the log (see recoverSegments), feeding every record to `visit`, then opens it for appends. */
  static async open(walDir: string, opts: WalOptions, visit: ReplayVisitor): Promise<Wal> {
    const wal = new Wal(walDir, opts);
    await wal.segments.adopt(await recoverSegments({ walDir, dataDir: opts.dataDir, logger: opts.logger, visit }));
    if (wal.segments.count === 0) await wal.startSegment(1);
    return wal;
  }

  /**
   * Appends `records` in order; resolves once they are written and (if `sync`) fdatasync'd,
   * after calling `onDurable`. Appends become durable in the order they were called.
   */
  append(records: readonly WalRecord[], sync: boolean, onDurable: DurableCallback): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const op: PendingAppend = { records, encoded: null, encoding: null, bytesEstimate: estimateBytes(records), sync, onDurable, resolve, reject };
      // Nothing in flight: encode at once and start the pipeline, after the writers released in the
      // same tick have queued too (a microtask later); otherwise encode in the background.
      this.queue.push(op, !this.running);
      this.pushWaiter?.(false);
      this.pushWaiter = null;
      if (!this.running) {
        this.running = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Reads bytes an entry placement points to (synchronously: Raft's Storage reads are). */
  readSync(segmentSeq: number, offset: number, length: number): Uint8Array {
    return this.segments.readSync(segmentSeq, offset, length);
  }

  /**
   * Deletes, oldest first, the segments (never the active one) that hold only entries <= `index`.
   * The caller must first have made a marker durable saying the log starts after `index`.
   */
  removeSegmentsThrough(index: number): Promise<number> {
    return this.segments.removeThrough(index);
  }

  /** The oldest segment still on disk (0 once closed). */
  oldestSegment(): number {
    return this.segments.oldestSeq();
  }

  stats(): WalStats {
    return { segments: this.segments.count, rounds: this.rounds, syncs: this.syncs };
  }

  async close(): Promise<void> {
    await this.idle();
    if (this.failure?.code === 'CLOSED') return;
    this.failure = new StorageError('CLOSED', `the write-ahead log in ${this.walDir} is closed`);
    await this.segments.close();
  }

  /**
   * Rounds in a two-stage pipeline: round N+1 is written (into the page cache) while round N's
   * fdatasync is in flight, and N+1's fdatasync is issued once N's returns. Round N's writers are
   * released only then, so what they do next (encode and checksum their next append, the main CPU
   * cost for large entries) overlaps N+1's sync instead of alternating with the disk.
   */
  private async drain(): Promise<void> {
    let syncing: Promise<PendingAppend[]> | null = null;
    try {
      for (;;) {
        if (this.queue.length === 0) {
          if (syncing === null) break;
          // Wake for whichever comes first: the sync, or writers appending again (those the last
          // round released): their appends are then written while this sync is still in flight.
          const synced = await Promise.race([syncing.then(() => true), this.nextPush()]);
          if (synced) {
            resolveAll(await syncing);
            syncing = null;
          }
          continue;
        }
        const written = await this.writeRound(this.queue.takeRound(this.opts.roundBytesMax, syncing === null), syncing);
        const durable = syncing === null ? [] : await syncing;
        syncing = written === null ? null : this.syncRound(written);
        resolveAll(durable);
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private nextPush(): Promise<false> {
    return new Promise((resolve) => (this.pushWaiter = resolve));
  }

  /** Writes one round after the previous one's bytes; null if it failed (its appends are then rejected). */
  private async writeRound(ops: PendingAppend[], previous: Promise<PendingAppend[]> | null): Promise<WrittenRound | null> {
    const current = this.segments.last()!;
    if (current.size >= this.opts.segmentBytesMax) {
      // A new segment's header describes the log after every earlier round: let them land first.
      await previous;
      if (!(await this.tryRoll(ops, current.seq + 1))) return null;
    }
    const segment = this.segments.last()!;
    const start = segment.size;
    const handle = this.segments.active();
    try {
      if (ops.every((op) => op.encoded !== null)) {
        const parts = roundParts(ops);
        const single = parts.length === 1 ? parts[0]! : null;
        segment.size += single !== null && single.length <= COALESCE_BYTES_MAX ? writeAllSync(handle.fd, single, start) : await writeAll(handle, parts, start);
      } else {
        segment.size += await writeAsChecksummed(handle, ops, start);
      }
    } catch (e) {
      await previous; // Rejecting resets what the caller expects: the previous round must be applied first.
      await this.writeFailed(ops, e, start);
      return null;
    }
    return { ops, segment, start };
  }

  /** Syncs a written round and applies it; returns its appends, durable but not yet resolved (none if it failed). */
  private async syncRound(round: WrittenRound): Promise<PendingAppend[]> {
    if (this.failure !== null) {
      for (const op of round.ops) op.reject(this.failure);
      return [];
    }
    if (round.ops.some((op) => op.sync)) {
      try {
        await this.segments.active().datasync();
        this.syncs++;
      } catch (e) {
        this.fail(round.ops, e, 'fdatasync');
        return [];
      }
    }
    this.rounds++;
    this.applyRound(round.ops, round.segment, round.start);
    return round.ops;
  }

  /** Tells each append where its entries landed, in order, before a later round can start a segment. */
  private applyRound(ops: PendingAppend[], segment: Segment, start: number): void {
    let position = start;
    for (const op of ops) {
      const placementsByRecord: EntryPlacement[][] = [];
      for (const r of op.encoded!) {
        const absolute: EntryPlacement[] = [];
        for (const p of r.placements) absolute.push({ index: p.index, term: p.term, kind: p.kind, offset: p.offset + position, length: p.length, crc: p.crc });
        position += r.byteLength;
        placementsByRecord.push(absolute);
        segment.maxEntryIndex = Math.max(segment.maxEntryIndex, absolute.at(-1)?.index ?? 0);
      }
      op.onDurable(segment.seq, placementsByRecord);
    }
  }

  /** Starts segment `seq` for this round; on failure rejects everything queued and returns false. */
  private async tryRoll(ops: PendingAppend[], seq: number): Promise<boolean> {
    try {
      await this.startSegment(seq);
      return true;
    } catch (e) {
      if (isDiskFull(e)) this.abort(ops, diskFull(this.opts.dataDir, this.segments.fileOf(seq), e));
      else this.fail(ops, e, 'creating a segment');
      return false;
    }
  }

  private startSegment(seq: number): Promise<void> {
    const header = this.opts.segmentHeader();
    return this.segments.start(seq, [{ type: 'segmentStart', segmentSeq: seq, prevIndex: header.prevIndex, prevTerm: header.prevTerm }, ...header.records]);
  }

  /** A failed write: on a full disk, cut the partial round off and keep going; else give up. */
  private async writeFailed(ops: PendingAppend[], e: unknown, start: number): Promise<void> {
    const file = this.segments.fileOf(this.segments.last()!.seq);
    if (!isDiskFull(e)) return this.fail(ops, e, 'write');
    try {
      await this.segments.active().truncate(start);
    } catch (truncateError) {
      return this.fail(ops, truncateError, 'truncating a partial write');
    }
    this.abort(ops, diskFull(this.opts.dataDir, file, e));
  }

  /** Rejects this round and everything queued behind it (validated against state that now never comes). */
  private abort(ops: PendingAppend[], error: StorageError): void {
    const rejected = [...ops, ...this.queue.takeAll()];
    this.opts.onAbort(error);
    for (const op of rejected) op.reject(error);
  }

  /** After a failed fsync the page cache may have dropped our writes: the only safe move is a restart. */
  private fail(ops: PendingAppend[], e: unknown, what: string): void {
    const file = this.segments.fileOf(this.segments.last()?.seq ?? 0);
    const detail = e instanceof Error ? e.message : String(e);
    this.failure = new StorageError(
      'WAL_FAILED',
      `write-ahead log ${what} failed on ${file}: ${detail}. What reached the disk is unknown, so this storage accepts no more writes: ` +
        `restart the node (recovery keeps what was synced and cuts any torn tail)${isDiskFull(e) ? ', after freeing space on the disk' : ''}.`,
      { cause: e },
    );
    this.abort(ops, this.failure);
  }
}
