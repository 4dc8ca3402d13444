import fs, { promises as fsp } from 'node:fs';
import { invariant } from '../../raft/index.js';
import { walCorrupt } from '../errors.js';
import { fsyncDir } from '../fs-util.js';
import { encodeRecord, type WalRecord } from './records.js';
import type { RecoveredSegment } from './recovery.js';
import { createSegment, segmentPath } from './segment-files.js';

export interface Segment {
  readonly seq: number;
  readonly readFd: number;
  /** Bytes written (or being written) so far: where the next round goes. */
  size: number;
  /** Highest entry index any entries record in it holds (0 if none): what compaction checks. */
  maxEntryIndex: number;
}

/**
 * The segment files of one WAL: the last is written through `active`; every one has a read-only
 * descriptor for the synchronous reads Raft's Storage interface makes.
 */
export class SegmentSet {
  private readonly list: Segment[] = [];
  private activeHandle: fsp.FileHandle | null = null;

  constructor(
    readonly walDir: string,
    private readonly dataDir: string,
  ) {}

  /** Adopts recovered segments; the last one becomes the active one. */
  async adopt(recovered: readonly RecoveredSegment[]): Promise<void> {
    for (const r of recovered) this.list.push({ ...r, readFd: fs.openSync(segmentPath(this.walDir, r.seq), 'r') });
    const last = this.list.at(-1);
    if (last !== undefined) this.activeHandle = await fsp.open(segmentPath(this.walDir, last.seq), 'r+');
  }

  get count(): number {
    return this.list.length;
  }

  last(): Segment | undefined {
    return this.list.at(-1);
  }

  active(): fsp.FileHandle {
    invariant(this.activeHandle !== null, 'wal: no active segment');
    return this.activeHandle;
  }

  fileOf(seq: number): string {
    return segmentPath(this.walDir, seq);
  }

  /** Creates segment `seq` holding `header` (atomically, see createSegment) and makes it the active one. */
  async start(seq: number, header: readonly WalRecord[]): Promise<void> {
    const encoded = header.map(encodeRecord);
    const handle = await createSegment(
      this.walDir,
      seq,
      encoded.flatMap((r) => r.parts),
    );
    const previous = this.activeHandle;
    this.activeHandle = handle;
    const size = encoded.reduce((sum, r) => sum + r.byteLength, 0);
    this.list.push({ seq, readFd: fs.openSync(segmentPath(this.walDir, seq), 'r'), size, maxEntryIndex: 0 });
    await previous?.close();
  }

  readSync(seq: number, offset: number, length: number): Uint8Array {
    const segment = this.list.find((s) => s.seq === seq);
    const file = this.fileOf(seq);
    invariant(segment !== undefined, () => `wal: read from segment ${file}, which was removed`);
    const out = new Uint8Array(length);
    const read = fs.readSync(segment.readFd, out, 0, length, offset);
    if (read !== length) throw walCorrupt(file, offset, `short read: ${read} of ${length} bytes (the file was truncated behind the log's back)`, this.dataDir);
    return out;
  }

  /** Deletes, oldest first, the non-active segments holding only entries <= `index`; then syncs the directory. */
  async removeThrough(index: number): Promise<number> {
    let count = 0;
    while (count < this.list.length - 1 && this.list[count]!.maxEntryIndex <= index) count++;
    const removed = this.list.splice(0, count);
    for (const s of removed) {
      fs.closeSync(s.readFd);
      await fsp.unlink(this.fileOf(s.seq));
    }
    if (count > 0) await fsyncDir(this.walDir);
    return count;
  }

  oldestSeq(): number {
    return this.list[0]?.seq ?? 0;
  }

  async close(): Promise<void> {
    await this.activeHandle?.close();
    this.activeHandle = null;
    for (const s of this.list.splice(0)) fs.closeSync(s.readFd);
  }
}
