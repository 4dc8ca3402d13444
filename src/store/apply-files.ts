/** Applying chunk, file, status and member commands. Each is idempotent under a crash mid-apply (see each). */
import { fileDocFromManifest, fileId, memberId, NAMES_PER_FILE_MAX, splitHashes, statusId, type FileDoc, type StatusDoc } from './catalog-docs.js';
import { fileLockKey, type CommitFile, type DeleteFile, type PutChunk, type RemoveMember, type SetMember, type SetStatus } from './command-schemas.js';
import { ChunkHashMismatchError } from './errors.js';
import { checkHolder, findLock } from './apply-locks.js';
import { reject, type ApplyContext, type ApplyResult } from './apply-context.js';

/** The chunk store's put is idempotent (an intact copy is kept) and doubles as repair of a bad one. */
export async function applyPutChunk(ctx: ApplyContext, cmd: PutChunk): Promise<ApplyResult> {
  try {
    // Not fsync'd here: the bytes stay durable in the Raft log until the next snapshot, which
    // syncs every deferred chunk first (StateMachine.snapshot); a node restarted before that
    // re-materializes lost chunk files from the log tail (see the node runtime).
    await ctx.chunks.put(cmd.hash, cmd.data, { deferSync: true });
  } catch (error) {
    if (error instanceof ChunkHashMismatchError) return reject('putChunk', 'CHUNK_HASH_MISMATCH', error.message);
    throw error;
  }
  return { ok: true, command: 'putChunk', hash: cmd.hash, size: cmd.data.length };
}

/**
 * Stores a manifest if the entry carries the current, unexpired holder's token for `file:<hash>`.
 * Content already stored makes it a duplicate: the name joins the names list, nothing else is stored.
 */
export async function applyCommitFile(ctx: ApplyContext, cmd: CommitFile): Promise<ApplyResult> {
  const { manifest } = cmd;
  const key = fileLockKey(manifest.hash);
  const problem = checkHolder('commitFile', key, await findLock(ctx, key), cmd.token, ctx.clockMs);
  const existing = await findFile(ctx, manifest.hash);
  if (problem !== null) {
    // Nothing becomes visible; the status tells the uploader, unless the content is stored already.
    if (existing === null) await putStatus(ctx, { hash: manifest.hash, status: 'error', message: `commit rejected: ${problem.message}` });
    return problem;
  }
  const status = await storeOrDedup(ctx, cmd, existing);
  // Removed once the file document is in place, so a reader always sees one or the other.
  await ctx.catalog.remove(statusId(manifest.hash));
  return { ok: true, command: 'commitFile', hash: manifest.hash, status };
}

async function storeOrDedup(ctx: ApplyContext, cmd: CommitFile, existing: FileDoc | null): Promise<'done' | 'duplicate'> {
  const { manifest } = cmd;
  if (existing === null) {
    await ctx.catalog.put(fileDocFromManifest(manifest, ctx.index));
    return 'done';
  }
  // createdIndex === this entry: our own write survived a crash mid-apply. Same outcome again.
  if (existing.createdIndex === ctx.index) return 'done';
  const names = existing.names.includes(manifest.name) || existing.names.length >= NAMES_PER_FILE_MAX ? existing.names : [...existing.names, manifest.name];
  await ctx.catalog.put({ ...existing, names, status: 'duplicate' });
  return 'duplicate';
}

/** A stored file's status is its commit outcome and stays so: an upload's status never overrides it. */
export async function applySetStatus(ctx: ApplyContext, cmd: SetStatus): Promise<ApplyResult> {
  const recorded = (await findFile(ctx, cmd.hash)) === null;
  if (recorded)
    await putStatus(ctx, cmd.message === undefined ? { hash: cmd.hash, status: cmd.status } : { hash: cmd.hash, status: cmd.status, message: cmd.message });
  return { ok: true, command: 'setStatus', hash: cmd.hash, status: cmd.status, recorded };
}

/** Drops the manifest; its chunks lose a reference, and the unreferenced ones await gc(). */
export async function applyDeleteFile(ctx: ApplyContext, cmd: DeleteFile): Promise<ApplyResult> {
  const existing = await findFile(ctx, cmd.hash);
  if (existing === null) return { ok: true, command: 'deleteFile', hash: cmd.hash, deleted: false, unreferencedChunks: [] };
  await ctx.catalog.remove(existing._id);
  const unreferencedChunks = [...new Set(splitHashes(existing.chunkHashes))].filter((h) => !ctx.catalog.refs.isReferenced(h));
  return { ok: true, command: 'deleteFile', hash: cmd.hash, deleted: true, unreferencedChunks };
}

export async function applySetMember(ctx: ApplyContext, cmd: SetMember): Promise<ApplyResult> {
  await ctx.catalog.put({ _id: memberId(cmd.id), kind: 'member', id: cmd.id, address: cmd.address, role: cmd.role });
  return { ok: true, command: 'setMember', id: cmd.id, address: cmd.address, role: cmd.role };
}

export async function applyRemoveMember(ctx: ApplyContext, cmd: RemoveMember): Promise<ApplyResult> {
  const removed = (await ctx.catalog.findById(memberId(cmd.id))) !== null;
  await ctx.catalog.remove(memberId(cmd.id));
  return { ok: true, command: 'removeMember', id: cmd.id, removed };
}

async function findFile(ctx: ApplyContext, hash: string): Promise<FileDoc | null> {
  const doc = await ctx.catalog.findById(fileId(hash));
  return doc?.kind === 'file' ? doc : null;
}

function putStatus(ctx: ApplyContext, status: Omit<StatusDoc, '_id' | 'kind'>): Promise<void> {
  return ctx.catalog.put({ _id: statusId(status.hash), kind: 'status', ...status });
}
