import { createHash, randomUUID, type Hash } from 'node:crypto';
import { CHUNK_SIZE_MAX_BYTES, fileLockKey, sha256Hex, type ApplyResult, type ChunkRef, type Command, type FileManifest } from '../store/index.js';
import type { Logger } from './log.js';

/** What an upload needs of its node (the leader). */
export interface UploadDeps {
  readonly nodeId: string;
  /** Proposes through Raft and resolves with the apply result once committed and applied here. */
  propose(command: Command): Promise<ApplyResult>;
  /** Whether the lock looks free in this node's applied state (released, or its lease is over). */
  lockLooksFree(key: string): Promise<boolean>;
  /** The lease of the per-hash lock (the seed's 30 s). */
  readonly leaseMs: number;
  readonly now: () => number;
  readonly log: Logger;
  /** Chunk proposals allowed in flight before the upload waits for the oldest (bounds memory). */
  readonly chunksInFlightMax: number;
}

export interface UploadHeader {
  readonly name: string;
  readonly mime: string;
  /** Expected size, 0 if unknown. */
  readonly size: number;
  /** The client's id for this upload, the same on every retry ('' if none): see acquire(). */
  readonly uploadId: string;
}

export interface UploadResult {
  readonly hash: string;
  readonly status: 'done' | 'duplicate';
  readonly size: number;
  readonly chunks: number;
}

export class UploadError extends Error {
  constructor(
    readonly code: 'BAD_REQUEST' | 'SIZE_MISMATCH' | 'REJECTED' | 'LOCK_TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

/** How long an upload waits for another upload of the same content holding the lock. */
const lockWaitSlackMs = 5_000;
const lockPollMs = 100;

export function validateHeader(h: UploadHeader): string | null {
  if (h.name.length === 0 || h.name.length > 1024) return 'the file name must be 1 to 1024 characters';
  if (/[\0/\\]/.test(h.name)) return 'the file name must not contain "/", "\\" or NUL';
  if (h.mime.length === 0 || h.mime.length > 255 || !/^[\w.+-]+\/[\w.+-]+/.test(h.mime)) return `"${h.mime}" is not a MIME type (e.g. text/plain)`;
  if (!Number.isSafeInteger(h.size) || h.size < 0) return 'size must be a non-negative integer';
  if (h.uploadId !== '' && !/^[A-Za-z0-9-]{1,64}$/.test(h.uploadId)) return 'upload_id must be 1 to 64 letters, digits or "-"';
  return null;
}

/**
 * One file arriving at the leader: hashed while it streams, cut into 255 KiB chunks that are
 * proposed as they fill (identical chunks already stored are not sent again), then committed
 * under the per-hash lock with its fencing token. Acknowledged only once the manifest is
 * committed, i.e. durable on a majority.
 */
export class Upload {
  private readonly fileHash: Hash = createHash('sha256');
  private pending = Buffer.alloc(0);
  private readonly chunks: ChunkRef[] = [];
  private readonly inFlight: Promise<ApplyResult>[] = [];
  private size = 0;
  private readonly session: UploadSession;

  constructor(
    private readonly deps: UploadDeps,
    private readonly header: UploadHeader,
  ) {
    const problem = validateHeader(header);
    if (problem) throw new UploadError('BAD_REQUEST', problem);
    this.session = new UploadSession(deps);
  }

  /** The client went away or the upload failed: nothing is committed; its chunks are orphans for GC. */
  abort(): void {
    this.session.end();
  }

  get bytesReceived(): number {
    return this.size;
  }

  async write(data: Uint8Array): Promise<void> {
    this.size += data.length;
    this.fileHash.update(data);
    this.pending = this.pending.length === 0 ? Buffer.from(data) : Buffer.concat([this.pending, data]);
    while (this.pending.length >= CHUNK_SIZE_MAX_BYTES) {
      const chunk = this.pending.subarray(0, CHUNK_SIZE_MAX_BYTES);
      this.pending = this.pending.subarray(CHUNK_SIZE_MAX_BYTES);
      await this.proposeChunk(new Uint8Array(chunk));
    }
  }

  async finish(): Promise<UploadResult> {
    if (this.pending.length > 0 || this.size === 0) {
      if (this.size === 0) throw new UploadError('BAD_REQUEST', 'empty files are not stored: there is nothing to address');
      await this.proposeChunk(new Uint8Array(this.pending));
      this.pending = Buffer.alloc(0);
    }
    if (this.header.size !== 0 && this.header.size !== this.size) {
      throw new UploadError('SIZE_MISMATCH', `the header announced ${this.header.size} bytes but ${this.size} arrived`);
    }
    const hash = this.fileHash.digest('hex');
    try {
      return await this.store(hash);
    } catch (e) {
      // Watchers of this hash learn that it failed, and why (a later upload may still succeed).
      const message = e instanceof Error ? e.message.slice(0, 2000) : String(e);
      void this.deps.propose({ type: 'setStatus', hash, status: 'error', message }).catch(() => {});
      throw e;
    }
  }

  private async store(hash: string): Promise<UploadResult> {
    const lockKey = fileLockKey(hash);
    // Statuses as in the seed: queued until this upload holds the hash's lock, processing while
    // it commits, then done or duplicate (set by commitFile itself). Advisory, not awaited: a
    // status never overrides a stored file's.
    const setStatus = (status: 'queued' | 'processing'): void => void this.deps.propose({ type: 'setStatus', hash, status }).catch(() => {});
    setStatus('queued');
    // Take the lock while the last chunks commit: both are on the critical path.
    const locked = this.acquire(lockKey).then(
      (token) => {
        setStatus('processing');
        return { token };
      },
      (error: unknown) => ({ error }),
    );
    try {
      const results = await Promise.all(this.inFlight.splice(0));
      for (const r of results) if (!r.ok) throw new UploadError('REJECTED', `a chunk was refused: ${r.message}`);
    } catch (e) {
      void locked.then((l) => 'token' in l && this.release(lockKey, l.token));
      throw e;
    }
    const lock = await locked;
    if ('error' in lock) throw lock.error;
    try {
      return await this.commit(hash, lock.token);
    } finally {
      this.release(lockKey, lock.token);
      this.session.end();
    }
  }

  private async commit(hash: string, token: number): Promise<UploadResult> {
    const manifest: FileManifest = {
      hash,
      name: this.header.name,
      size: this.size,
      mime: this.header.mime,
      chunks: this.chunks,
      createdAtMs: this.deps.now(),
      viaNode: this.deps.nodeId,
    };
    const committed = await this.deps.propose({ type: 'commitFile', manifest, token, nowMs: this.deps.now() });
    if (!committed.ok) throw new UploadError('REJECTED', `the commit was refused: ${committed.message}`);
    if (committed.command !== 'commitFile') throw new Error(`commitFile answered ${committed.command}`);
    return { hash, status: committed.status, size: this.size, chunks: this.chunks.length };
  }

  /** Not awaited: the upload is already acknowledged or failed; a lost release ends with the lease. */
  private release(key: string, token: number): void {
    void this.deps
      .propose({ type: 'releaseLock', key, token })
      .catch((e: Error) => this.deps.log.warn({ key, err: e.message }, 'lock release failed; its lease will expire'));
  }

  private async proposeChunk(data: Uint8Array): Promise<void> {
    const hash = sha256Hex(data);
    this.chunks.push({ hash, size: data.length });
    // Always proposed, even if stored: garbage collection is local to each node, so only a
    // putChunk committed with this upload proves every node holds the chunk when the file
    // commits. The chunk store still keeps one copy (put of an intact chunk is a no-op).
    this.inFlight.push(this.deps.propose({ type: 'putChunk', hash, data }));
    if (this.inFlight.length >= this.deps.chunksInFlightMax) {
      const r = await this.inFlight.shift()!;
      if (!r.ok) throw new UploadError('REJECTED', `a chunk was refused: ${r.message}`);
    }
  }

  /**
   * Takes the per-hash lock. If another upload of the same content holds it, waits (watching the
   * local applied state, not proposing) until it is released or its lease ends, then tries again.
   */
  private async acquire(key: string): Promise<number> {
    const holder = this.header.uploadId ? `upload:${this.header.uploadId}` : `${this.deps.nodeId}:${randomUUID()}`;
    const giveUpAt = this.deps.now() + this.deps.leaseMs + lockWaitSlackMs;
    for (;;) {
      const r = await this.deps.propose({ type: 'acquireLock', key, holder, ttlMs: this.deps.leaseMs, nowMs: this.deps.now() });
      if (r.ok && r.command === 'acquireLock') return r.token;
      if (r.ok || r.code !== 'LOCK_HELD') throw new UploadError('REJECTED', `lock ${key}: ${r.ok ? r.command : r.message}`);
      while (!(await this.deps.lockLooksFree(key))) {
        if (this.deps.now() > giveUpAt) throw new UploadError('LOCK_TIMEOUT', `lock ${key} stayed held by ${r.heldBy?.holder ?? 'another upload'}`);
        await new Promise((res) => setTimeout(res, lockPollMs));
      }
    }
  }
}

/** Uploads running longer than this take a session lock, which keeps their chunks from GC. */
const sessionAfterMs = 15_000;

/**
 * The chunk store's GC spares unreferenced chunks for a grace period (2 leases), and beyond it any
 * chunk written while some lock is held. A long upload (its file lock is only taken at the end,
 * when its hash is known) therefore holds a lock of its own, kept alive, from early on.
 */
class UploadSession {
  private readonly key = `upload:${randomUUID()}`;
  private token: number | null = null;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private ended = false;

  constructor(private readonly deps: UploadDeps) {
    this.timers.push(setTimeout(() => void this.begin(), sessionAfterMs));
  }

  private async begin(): Promise<void> {
    const r = await this.deps
      .propose({ type: 'acquireLock', key: this.key, holder: this.deps.nodeId, ttlMs: this.deps.leaseMs, nowMs: this.deps.now() })
      .catch(() => null);
    if (!r?.ok || r.command !== 'acquireLock') return;
    this.token = r.token;
    if (this.ended) return this.end();
    this.timers.push(setInterval(() => void this.keepAlive(), this.deps.leaseMs / 3));
  }

  private async keepAlive(): Promise<void> {
    if (this.token === null) return;
    await this.deps.propose({ type: 'keepAliveLock', key: this.key, token: this.token, nowMs: this.deps.now() }).catch(() => null);
  }

  end(): void {
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.token === null) return;
    const token = this.token;
    this.token = null;
    void this.deps.propose({ type: 'releaseLock', key: this.key, token }).catch(() => {});
  }
}
