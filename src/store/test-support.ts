/** Helpers for the store's tests: seeded randomness, temp dirs, and a node that keeps its own log. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../raft/rand.js';
import type { ApplyResult } from './apply-context.js';
import { encodeCommand, fileLockKey, type Command, type FileManifest } from './commands.js';
import { sha256Hex } from './hash.js';
import { StateMachine, type LogEntryData } from './state-machine.js';

export interface Rng {
  int(n: number): number;
  bytes(n: number): Uint8Array;
}

export function rng(seed: number): Rng {
  const r = seededRandom(seed);
  return {
    int: r.int,
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = r.int(256);
      return out;
    },
  };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-store-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A state machine plus the log it applied: what a Raft node would hold. */
export class TestNode {
  readonly log: LogEntryData[] = [];

  private constructor(
    readonly dataDir: string,
    public sm: StateMachine,
  ) {}

  static async open(dataDir: string, options: { fsync?: boolean; compactAfterLines?: number } = {}): Promise<TestNode> {
    return new TestNode(dataDir, await StateMachine.open({ dataDir, fsync: options.fsync ?? false, compactAfterLines: options.compactAfterLines }));
  }

  /** Appends a command to the log and applies it, as a committed entry. */
  async run(command: Command): Promise<ApplyResult> {
    return this.runBytes(encodeCommand(command));
  }

  async runBytes(data: Uint8Array): Promise<ApplyResult> {
    const index = this.log.length + 1;
    this.log.push({ index, data });
    return this.sm.apply(index, data);
  }

  get lastIndex(): number {
    return this.log.length;
  }
}

export interface Content {
  readonly manifest: FileManifest;
  readonly chunks: readonly { hash: string; data: Uint8Array }[];
}

/** Splits content into chunks of `chunkBytes` (small in tests; the runtime uses 255 KiB). */
export function contentOf(data: Uint8Array, name: string, options: { chunkBytes?: number; createdAtMs?: number; viaNode?: string } = {}): Content {
  const chunkBytes = options.chunkBytes ?? 1024;
  const chunks: { hash: string; data: Uint8Array }[] = [];
  for (let i = 0; i < data.length; i += chunkBytes) {
    const part = data.slice(i, i + chunkBytes);
    chunks.push({ hash: sha256Hex(part), data: part });
  }
  const manifest: FileManifest = {
    hash: sha256Hex(data),
    name,
    size: data.length,
    mime: 'application/octet-stream',
    chunks: chunks.map((c) => ({ hash: c.hash, size: c.data.length })),
    createdAtMs: options.createdAtMs ?? 1_000,
    viaNode: options.viaNode ?? 'node-a',
  };
  return { manifest, chunks };
}

/** The upload pipeline in miniature: lock, chunks, commit, release. Returns the commit's result. */
export async function upload(node: TestNode, content: Content, holder: string, nowMs: number): Promise<ApplyResult> {
  const key = fileLockKey(content.manifest.hash);
  const lock = await node.run({ type: 'acquireLock', key, holder, ttlMs: 30_000, nowMs });
  if (!lock.ok || lock.command !== 'acquireLock') return lock;
  for (const chunk of content.chunks) await node.run({ type: 'putChunk', hash: chunk.hash, data: chunk.data });
  const commit = await node.run({ type: 'commitFile', manifest: content.manifest, token: lock.token, nowMs: nowMs + 10 });
  await node.run({ type: 'releaseLock', key, token: lock.token });
  return commit;
}

/** A mixed workload: members, uploads (some duplicates), statuses, deletes, a lock left held. */
export async function runWorkload(node: TestNode, seed: number, uploads: number): Promise<void> {
  const r = rng(seed);
  await node.run({ type: 'setMember', id: 'node-a', address: '10.0.0.1:7000', role: 'voter' });
  await node.run({ type: 'setMember', id: 'node-b', address: '10.0.0.2:7000', role: 'voter' });
  const stored: Content[] = [];
  for (let i = 0; i < uploads; i++) {
    const reuse = stored.length > 0 && r.int(4) === 0;
    const content = reuse ? (stored[r.int(stored.length)] as Content) : contentOf(r.bytes(200 + r.int(3000)), `file-${i}.bin`, { createdAtMs: 10_000 + i });
    const named = { ...content, manifest: { ...content.manifest, name: `upload-${i}.bin` } };
    await node.run({ type: 'setStatus', hash: content.manifest.hash, status: 'queued' });
    await upload(node, named, `client-${r.int(3)}`, 100_000 + i * 1_000);
    if (!reuse) stored.push(content);
  }
  const victim = stored[0];
  if (victim !== undefined) await node.run({ type: 'deleteFile', hash: victim.manifest.hash });
  await node.run({ type: 'setStatus', hash: 'e'.repeat(64), status: 'error', message: 'client went away' });
  await node.run({ type: 'acquireLock', key: 'file:' + 'f'.repeat(64), holder: 'slow-client', ttlMs: 30_000, nowMs: 900_000 });
  await node.run({ type: 'removeMember', id: 'node-b' });
}
