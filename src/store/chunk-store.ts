/**
 * Content-addressed chunk files: `<root>/ab/abcdef…` (first two hex characters as directory, so
 * no directory grows past ~1/256 of the chunks). Every write is temp + fsync + rename + directory
 * fsync; every read is verified against the hash, so wrong bytes are never returned.
 */
import { mkdir, open, readdir, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkCorruptError, ChunkHashMismatchError, invariant, type ChunkProblemReason } from './errors.js';
import { fsyncDir, isNotFound, TEMP_SUFFIX, writeFileAtomic } from './fs-atomic.js';
import { CHUNK_SIZE_MAX_BYTES, isHash, sha256Hex } from './hash.js';

export interface ChunkStoreInit {
  /** false skips fsync (tests and benches only). */
  readonly fsync?: boolean;
}

export type PutOutcome = 'written' | 'present' | 'repaired';

export interface ChunkProblem {
  readonly hash: string;
  readonly path: string;
  readonly reason: ChunkProblemReason;
}

export interface GcOptions {
  readonly isReferenced: (hash: string) => boolean;
  /** Only chunks (and stale temp files) last written before this wall-clock time are deleted. */
  readonly olderThanMs: number;
  /** Runs each batch of deletions exclusively of applies (the state machine passes its apply lock). */
  readonly exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
}

const GC_BATCH = 64;

export class ChunkStore {
  private readonly knownDirs = new Set<string>();
  /** Written with deferSync and not yet fsync'd (see syncPending). */
  private readonly unsynced = new Set<string>();
  private readonly fsyncEnabled: boolean;

  private constructor(
    readonly root: string,
    init: ChunkStoreInit,
  ) {
    this.fsyncEnabled = init.fsync ?? true;
  }

  static async open(root: string, init: ChunkStoreInit = {}): Promise<ChunkStore> {
    await mkdir(root, { recursive: true });
    return new ChunkStore(root, init);
  }

  pathOf(hash: string): string {
    invariant(isHash(hash), () => `not a chunk hash: ${JSON.stringify(hash)}`);
    return join(this.root, hash.slice(0, 2), hash);
  }

  /** Whether a file exists for the hash (not whether its bytes are intact: get and scrub tell that). */
  async has(hash: string): Promise<boolean> {
    try {
      await stat(this.pathOf(hash));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The chunk's bytes, verified. Throws ChunkCorruptError (CHUNK_MISSING or CHUNK_CORRUPT) otherwise. */
  async get(hash: string): Promise<Uint8Array> {
    const path = this.pathOf(hash);
    let data: Uint8Array;
    try {
      const buf = await readFile(path);
      data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (error) {
      if (isNotFound(error)) throw new ChunkCorruptError(hash, path, 'missing', 'no such file');
      throw error;
    }
    if (data.length > CHUNK_SIZE_MAX_BYTES) throw new ChunkCorruptError(hash, path, 'tooLarge', `${data.length} bytes exceeds the chunk limit`);
    const actual = sha256Hex(data);
    if (actual !== hash) throw new ChunkCorruptError(hash, path, 'hashMismatch', `its ${data.length} bytes hash to ${actual}`);
    return data;
  }

  /**
   * Stores verified bytes durably. An intact existing copy is kept (its mtime refreshed, which
   * restarts its GC grace period); a corrupt or missing one is replaced: put is also repair.
   */
  async put(hash: string, data: Uint8Array, options: { deferSync?: boolean } = {}): Promise<PutOutcome> {
    const actual = sha256Hex(data);
    if (actual !== hash) throw new ChunkHashMismatchError(hash, actual);
    invariant(data.length > 0 && data.length <= CHUNK_SIZE_MAX_BYTES, () => `chunk of ${data.length} bytes is outside 1..${CHUNK_SIZE_MAX_BYTES}`);
    const existing = await this.check(hash);
    if (existing === 'intact') {
      const now = new Date();
      await utimes(this.pathOf(hash), now, now);
      return 'present';
    }
    await this.ensureDir(hash.slice(0, 2));
    const defer = this.fsyncEnabled && options.deferSync === true;
    await writeFileAtomic(this.pathOf(hash), data, { fsync: this.fsyncEnabled && !defer });
    if (defer) this.unsynced.add(hash);
    return existing === 'missing' ? 'written' : 'repaired';
  }

  /**
   * Makes every chunk written with deferSync durable (file, then its directory entry). The state
   * machine defers because a chunk applied from the Raft log is still durable in the log: it
   * calls this before a snapshot, i.e. before the log that holds the bytes may be compacted.
   */
  async syncPending(): Promise<number> {
    const hashes = [...this.unsynced];
    this.unsynced.clear();
    const shards = new Set<string>();
    for (const hash of hashes) {
      try {
        const handle = await open(this.pathOf(hash), 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        shards.add(hash.slice(0, 2));
      } catch (error) {
        if (!isNotFound(error)) throw error; // Collected since: nothing to make durable.
      }
    }
    for (const shard of shards) await fsyncDir(join(this.root, shard));
    return hashes.length;
  }

  /** Returns whether a file was deleted. */
  async delete(hash: string): Promise<boolean> {
    const path = this.pathOf(hash);
    try {
      await unlink(path);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    if (this.fsyncEnabled) await fsyncDir(join(this.root, hash.slice(0, 2)));
    return true;
  }

  /** Every stored chunk hash (by file name; contents unchecked). */
  async *list(): AsyncGenerator<string> {
    for (const dir of await this.shardDirs()) {
      for (const name of await readdir(join(this.root, dir))) if (isHash(name) && name.startsWith(dir)) yield name;
    }
  }

  /** Reads and verifies every chunk; returns the bad ones. Repair comes from peers. */
  async scrub(): Promise<ChunkProblem[]> {
    const problems: ChunkProblem[] = [];
    for await (const hash of this.list()) {
      const problem = await this.verify(hash);
      // A chunk deleted between list and read was collected, not lost: only corruption counts here.
      if (problem !== null && problem.reason !== 'missing') problems.push(problem);
    }
    return problems;
  }

  /** null when the chunk is intact. */
  async verify(hash: string): Promise<ChunkProblem | null> {
    try {
      await this.get(hash);
      return null;
    } catch (error) {
      if (error instanceof ChunkCorruptError) return { hash, path: error.path, reason: error.reason };
      throw error;
    }
  }

  /** Deletes unreferenced chunks last written before `olderThanMs`, and stale temp files. */
  async gc(options: GcOptions): Promise<{ deleted: string[] }> {
    const exclusive = options.exclusive ?? ((fn) => fn());
    const candidates: string[] = [];
    for await (const hash of this.list()) if (!options.isReferenced(hash)) candidates.push(hash);
    const deleted: string[] = [];
    for (let i = 0; i < candidates.length; i += GC_BATCH) {
      const batch = candidates.slice(i, i + GC_BATCH);
      // Re-checked inside the exclusive section: an apply may have referenced or re-put it meanwhile.
      await exclusive(async () => {
        for (const hash of batch) if (!options.isReferenced(hash) && (await this.deleteIfOlder(this.pathOf(hash), options.olderThanMs))) deleted.push(hash);
      });
    }
    await this.removeStaleTemps(options.olderThanMs);
    return { deleted };
  }

  private async check(hash: string): Promise<'intact' | 'missing' | 'corrupt'> {
    const problem = await this.verify(hash);
    if (problem === null) return 'intact';
    return problem.reason === 'missing' ? 'missing' : 'corrupt';
  }

  private async deleteIfOlder(path: string, olderThanMs: number): Promise<boolean> {
    try {
      if ((await stat(path)).mtimeMs >= olderThanMs) return false;
      await unlink(path);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private async removeStaleTemps(olderThanMs: number): Promise<void> {
    for (const dir of await this.shardDirs()) {
      for (const name of await readdir(join(this.root, dir))) {
        if (name.endsWith(TEMP_SUFFIX)) await this.deleteIfOlder(join(this.root, dir, name), olderThanMs);
      }
    }
  }

  private async shardDirs(): Promise<string[]> {
    const names = await readdir(this.root);
    return names.filter((n) => /^[0-9a-f]{2}$/.test(n)).sort();
  }

  private async ensureDir(shard: string): Promise<void> {
    if (this.knownDirs.has(shard)) return;
    await mkdir(join(this.root, shard), { recursive: true });
    // The new directory entry must be durable before a chunk inside it claims to be.
    if (this.fsyncEnabled) await fsyncDir(this.root);
    this.knownDirs.add(shard);
  }
}
