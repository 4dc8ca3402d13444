import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { StorageError, diskFull, isDiskFull } from './errors.js';

/**
 * Makes a directory's entries (files created, renamed or deleted in it) durable. Without it a
 * crash can forget a new segment or resurrect a deleted one even though the file data was synced.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p that makes the new directories themselves durable: a data dir whose wal/ entry is lost
 * in a crash would restart as an empty node, one that may have voted or acknowledged entries.
 */
export async function ensureDir(dir: string): Promise<void> {
  const topCreated = await fsp.mkdir(dir, { recursive: true });
  if (topCreated === undefined) return;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    await fsyncDir(path.dirname(d));
    if (d === path.resolve(topCreated)) return;
  }
}

/**
 * Writes `parts` to `file` so that after a crash the file is either absent/old or complete:
 * temp file, fsync, rename over, fsync the directory. The temp name ends in `.tmp` so recovery
 * can sweep leftovers.
 */
export async function writeFileAtomic(file: string, parts: readonly Uint8Array[], dataDir: string): Promise<void> {
  const temp = `${file}.tmp`;
  try {
    const handle = await fsp.open(temp, 'w');
    try {
      await writeAll(handle, parts, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
    await fsyncDir(path.dirname(file));
  } catch (e) {
    await fsp.rm(temp, { force: true });
    if (isDiskFull(e)) throw diskFull(dataDir, file, e);
    throw e;
  }
}

/** writev that insists on writing everything: a short write would leave a record half on disk. */
export async function writeAll(handle: fsp.FileHandle, parts: readonly Uint8Array[], position: number): Promise<number> {
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  let written = 0;
  let pending = [...parts];
  while (written < total) {
    const { bytesWritten } = await handle.writev(pending as Uint8Array[], position + written);
    if (bytesWritten <= 0) throw new StorageError('WAL_FAILED', `writev wrote ${bytesWritten} bytes of ${total - written} at ${position + written}`);
    written += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
  }
  return total;
}

function dropBytes(parts: readonly Uint8Array[], count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = count;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}

/** Synchronous counterpart for small buffers: a write into the page cache takes microseconds, a thread-pool round trip longer. */
export function writeAllSync(fd: number, buf: Uint8Array, position: number): number {
  let written = 0;
  while (written < buf.length) {
    const n = fs.writeSync(fd, buf, written, buf.length - written, position + written);
    if (n <= 0) throw new StorageError('WAL_FAILED', `write wrote ${n} bytes of ${buf.length - written} at ${position + written}`);
    written += n;
  }
  return written;
}
