import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ensureDir, fsyncDir, writeAll } from '../fs-util.js';

/** Segment files are named by an 8-digit sequence number: 00000001.seg, 00000002.seg, ... */
const SEGMENT_NAME = /^(\d{8})\.seg$/;

export function segmentName(seq: number): string {
  return `${String(seq).padStart(8, '0')}.seg`;
}

export function segmentPath(walDir: string, seq: number): string {
  return path.join(walDir, segmentName(seq));
}

/** Sequence numbers of the segments in `walDir`, ascending; removes leftover temp files. */
export async function listSegments(walDir: string): Promise<number[]> {
  await ensureDir(walDir);
  const names = await fsp.readdir(walDir);
  const seqs: number[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) seqs.push(Number(match[1]));
    // A .tmp is a segment whose creation never finished (it is renamed into place only once its
    // header is synced): it holds nothing acknowledged.
    else if (name.endsWith('.seg.tmp')) await fsp.rm(path.join(walDir, name), { force: true });
  }
  return seqs.sort((a, b) => a - b);
}

/**
 * Creates a segment holding `header` so that it appears atomically: written and synced under a
 * temp name, then renamed, then the directory synced. A crash never leaves a headless segment.
 */
export async function createSegment(walDir: string, seq: number, header: readonly Uint8Array[]): Promise<fsp.FileHandle> {
  const file = segmentPath(walDir, seq);
  const temp = `${file}.tmp`;
  try {
    const handle = await fsp.open(temp, 'w');
    try {
      await writeAll(handle, header, 0);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
    await fsyncDir(walDir);
  } catch (e) {
    await fsp.rm(temp, { force: true });
    throw e;
  }
  return fsp.open(file, 'r+');
}
