/**
 * Crash-safe file writes: temp file + fsync + rename + directory fsync. After `writeFileAtomic`
 * returns, the file holds either its old content or all of the new content, across power loss.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Suffix of in-flight temp files; a crash may leave them behind, and GC removes them. */
export const TEMP_SUFFIX = '.tmp';

export interface WriteOptions {
  /** false skips every fsync (tests and benches only): the rename stays atomic, durability is lost. */
  readonly fsync?: boolean;
}

export function tempPathFor(path: string): string {
  // Random, not a counter: two writers of one path (apply and repair) must not share a temp file.
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

export async function writeFileAtomic(path: string, chunks: Uint8Array | readonly Uint8Array[], options: WriteOptions = {}): Promise<void> {
  const fsyncEnabled = options.fsync ?? true;
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx');
  try {
    for (const chunk of chunks instanceof Uint8Array ? [chunks] : chunks) await handle.write(chunk);
    if (fsyncEnabled) await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  if (fsyncEnabled) await fsyncDir(dirname(path));
}

/**
 * Makes a directory's entries (a rename, a new file, an unlink) durable. Windows cannot open a
 * directory for fsync; there NTFS journals the metadata itself, so skipping is the best we can do.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
