import { promises as fsp } from 'node:fs';
import { walCorrupt } from '../errors.js';
import type { StorageLogger } from '../logger.js';
import type { DecodedRecord } from './records.js';
import { scanSegment, type SegmentScan } from './segment-scan.js';
import { listSegments, segmentPath } from './segment-files.js';

export interface RecoveredSegment {
  readonly seq: number;
  readonly size: number;
  /** Highest entry index any entries record in the segment holds (0 if none). */
  readonly maxEntryIndex: number;
}

/**
 * Replays one record into the caller's state. Returns null, or why the record cannot follow
 * what came before (a gap, a marker past the log's end): that is corruption, not a torn tail.
 */
export type ReplayVisitor = (record: DecodedRecord, segmentSeq: number) => string | null;

interface RecoveryContext {
  readonly walDir: string;
  readonly dataDir: string;
  readonly logger: StorageLogger;
  readonly visit: ReplayVisitor;
}

/**
 * Reads every segment in order, verifying every record, and feeds them to `visit`. A torn tail
 * (a bad record at the very end of the last segment with nothing valid after it: what a crash
 * during a write leaves) is cut off with a warning. Anything else that fails to verify throws
 * WAL_CORRUPT naming the file and offset: starting on it could lose or invent acknowledged entries.
 */
export async function recoverSegments(ctx: RecoveryContext): Promise<RecoveredSegment[]> {
  const seqs = await listSegments(ctx.walDir);
  const out: RecoveredSegment[] = [];
  for (const [i, seq] of seqs.entries()) {
    const file = segmentPath(ctx.walDir, seq);
    const prev = seqs[i - 1];
    if (prev !== undefined && seq !== prev + 1) throw walCorrupt(file, 0, `segment ${prev + 1} is missing (found ${prev} then ${seq})`, ctx.dataDir);
    const scan = scanSegment(await fsp.readFile(file));
    const isLast = i === seqs.length - 1;
    // Segments appear by rename only once their header is synced: an empty one is damage.
    if (scan.records.length === 0 && scan.problem === null)
      throw walCorrupt(file, 0, 'the segment is empty (it should begin with a segment-start record)', ctx.dataDir);
    const maxEntryIndex = replaySegment(ctx, file, seq, scan);
    if (scan.problem !== null) await handleProblem(ctx, file, scan, isLast);
    out.push({ seq, size: scan.validEnd, maxEntryIndex });
  }
  return out;
}

function replaySegment(ctx: RecoveryContext, file: string, seq: number, scan: SegmentScan): number {
  let maxEntryIndex = 0;
  for (const [i, { offset, record }] of scan.records.entries()) {
    if (i === 0 && (record.type !== 'segmentStart' || record.segmentSeq !== seq)) {
      throw walCorrupt(file, offset, `the segment does not begin with its own segment-start record (found ${record.type})`, ctx.dataDir);
    }
    const problem = ctx.visit(record, seq);
    if (problem !== null) throw walCorrupt(file, offset, problem, ctx.dataDir);
    if (record.type === 'entries') maxEntryIndex = Math.max(maxEntryIndex, record.placements.at(-1)?.index ?? 0);
  }
  return maxEntryIndex;
}

async function handleProblem(ctx: RecoveryContext, file: string, scan: SegmentScan, isLast: boolean): Promise<void> {
  const p = scan.problem!;
  // A segment's header is synced before the segment is renamed into place, so a crash cannot tear
  // it: a bad header is damage, even at the tail.
  const tornTail = isLast && !p.checksumValid && !p.validRecordFollows && p.offset > 0;
  if (!tornTail) {
    const where = isLast ? (p.validRecordFollows ? 'valid records follow it' : 'it is not a write the log could have torn') : 'later segments follow it';
    throw walCorrupt(file, p.offset, `${p.reason}; ${where}`, ctx.dataDir);
  }
  const handle = await fsp.open(file, 'r+');
  try {
    const size = (await handle.stat()).size;
    ctx.logger.warn(`wal: torn tail in ${file} at byte offset ${p.offset} (${p.reason}): truncating ${size - p.offset} bytes that were never acknowledged`);
    await handle.truncate(p.offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
