import { createHash, timingSafeEqual } from 'node:crypto';
import { status, type ServerReadableStream, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import type { StoredFile, FileSummary } from '../store/index.js';
import {
  FileStatus,
  ReadConsistency,
  type DeleteRequest,
  type DeleteResponse,
  type DownloadRequest,
  type DownloadResponse,
  type FileInfo,
  type ListRequest,
  type ListResponse,
  type StatRequest,
  type StatResponse,
  type UploadRequest,
  type UploadResponse,
} from '../shared/proto/larder/v1/store.js';
import { grpcError, notLeader, toGrpcError } from './api-errors.js';
import { deadlineOf } from './admission.js';
import { admittedEarly } from './early-admission.js';
import type { ApiContext } from './api-context.js';
import { Upload, UploadError } from './upload.js';

const sha256Hex = /^[0-9a-f]{64}$/;

export function fileInfo(f: FileSummary | StoredFile): FileInfo {
  const chunks = 'chunks' in f ? f.chunks.map((c) => ({ hash: c.hash, size: c.size })) : [];
  return { hash: f.hash, names: [...f.names], size: f.size, mime: f.mime, chunks, createdAtMs: f.createdAtMs, viaNode: f.viaNode };
}

/** Upload: admitted (or shed) before its first message is read, then received and committed. */
export async function upload(ctx: ApiContext, call: ServerReadableStream<UploadRequest, UploadResponse>, cb: sendUnaryData<UploadResponse>): Promise<void> {
  try {
    cb(null, await ctx.admission.run('upload', deadlineOf(call), () => receiveUpload(ctx, call)));
  } catch (e) {
    if (call.cancelled) {
      ctx.log.info({ err: (e as Error).message }, 'client went away mid-upload: nothing was committed');
      return;
    }
    cb(toGrpcError(e, ctx.leaderAddress));
  }
}

async function receiveUpload(ctx: ApiContext, call: ServerReadableStream<UploadRequest, UploadResponse>): Promise<UploadResponse> {
  const it = call[Symbol.asyncIterator]() as AsyncIterator<UploadRequest>;
  const first = await it.next();
  const header = first.done ? undefined : first.value.header;
  if (!header) throw new UploadError('BAD_REQUEST', 'the first upload message must carry the header (name, mime, size)');
  if (!ctx.isLeader()) {
    if (!ctx.forwardUploads || header.noForward) throw notLeader(ctx.leaderAddress());
    const leader = ctx.leaderAddress();
    if (!leader) throw notLeader(null);
    return ctx.forwarder.forward(leader, header, it);
  }
  const up = new Upload(ctx.uploadDeps(), { name: header.name, mime: header.mime, size: Number(header.size), uploadId: header.uploadId });
  let res;
  try {
    let complete = false;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (complete) throw new UploadError('BAD_REQUEST', 'data after the message that completed the upload');
      await up.write(r.value.data);
      complete = r.value.complete;
    }
    if (!complete || call.cancelled)
      throw new UploadError('BAD_REQUEST', 'the upload stream ended without its final message: the client went away, nothing was stored');
    res = await up.finish();
  } catch (e) {
    up.abort();
    throw e;
  }
  ctx.log.info({ hash: res.hash, status: res.status, bytes: res.size, chunks: res.chunks, name: header.name }, 'upload committed');
  return {
    hash: res.hash,
    status: res.status === 'done' ? FileStatus.FILE_STATUS_DONE : FileStatus.FILE_STATUS_DUPLICATE,
    message: '',
    size: res.size,
    chunks: res.chunks,
  };
}

/**
 * Resolves a hash or a name against the applied catalog. A miss is confirmed with the leader
 * (ReadIndex) before answering NOT_FOUND, so a file just uploaded through another node is found
 * here too (read-your-writes) while hits stay local and cheap.
 */
async function findFile(ctx: ApiContext, hash: string, name: string): Promise<StoredFile> {
  try {
    return await findApplied(ctx, hash, name);
  } catch (e) {
    if ((e as { code?: unknown }).code !== status.NOT_FOUND) throw e;
    await ctx.loop.readBarrier().catch(() => {
      throw e;
    });
    return findApplied(ctx, hash, name);
  }
}

async function findApplied(ctx: ApiContext, hash: string, name: string): Promise<StoredFile> {
  if (hash) {
    if (!sha256Hex.test(hash)) throw grpcError(status.INVALID_ARGUMENT, `"${hash}" is not a content hash (64 lowercase hex characters)`);
    const f = await ctx.sm.catalog.getFile(hash);
    if (!f) throw grpcError(status.NOT_FOUND, `no file with hash ${hash}`);
    return f;
  }
  if (!name) throw grpcError(status.INVALID_ARGUMENT, 'give a hash or a name');
  const page = await ctx.sm.catalog.listFiles({ limit: 1000, nameContains: name });
  const match = page.files.find((f) => f.names.includes(name));
  const f = match ? await ctx.sm.catalog.getFile(match.hash) : null;
  if (!f) throw grpcError(status.NOT_FOUND, `no file named "${name}"`);
  return f;
}

/** Download: admitted (or shed) first, then streamed chunk by chunk. */
export async function download(ctx: ApiContext, call: ServerWritableStream<DownloadRequest, DownloadResponse>): Promise<void> {
  try {
    const deadline = deadlineOf(call);
    const serve = (): Promise<void> => streamFile(ctx, call);
    await (admittedEarly(call.metadata) ? ctx.admission.runAdmitted('download', deadline, serve) : ctx.admission.run('download', deadline, serve));
  } catch (e) {
    call.emit('error', toGrpcError(e, ctx.leaderAddress));
  }
}

async function streamFile(ctx: ApiContext, call: ServerWritableStream<DownloadRequest, DownloadResponse>): Promise<void> {
  const req = call.request;
  if (req.consistency === ReadConsistency.READ_CONSISTENCY_LINEARIZABLE) await ctx.loop.readBarrier();
  const file = await findFile(ctx, req.hash, req.name);
  const offset = Number(req.offset);
  const end = req.length ? Math.min(file.size, offset + Number(req.length)) : file.size;
  if (offset > file.size || (offset === file.size && file.size > 0 && req.length > 0)) {
    throw grpcError(status.OUT_OF_RANGE, `range starts at ${offset}, past the end of the ${file.size}-byte file`);
  }
  const cancelled = new Promise<void>((resolve) => (call.cancelled ? resolve() : call.once('cancelled', () => resolve())));
  let last = await write(call, { info: fileInfo(file), data: Buffer.alloc(0) }, cancelled);
  let chunkStart = 0;
  for (const c of file.chunks) {
    const chunkEnd = chunkStart + c.size;
    if (chunkEnd > offset && chunkStart < end) {
      const data = await ctx.reader.read(c.hash);
      const from = Math.max(0, offset - chunkStart);
      const to = Math.min(c.size, end - chunkStart);
      last = await write(call, { info: undefined, data: Buffer.from(data.buffer, data.byteOffset + from, to - from) }, cancelled);
    }
    if (call.cancelled || chunkEnd >= end) break;
    chunkStart = chunkEnd;
  }
  await last.flushed;
  call.end();
}

/**
 * Sends one message. Resolves once there is room for the next (drain) and returns `flushed`,
 * which settles when this message has left for the socket: a download holds its worker until
 * then, so admission control measures how long serving really takes, transmission included (an
 * end() on buffered data would free the worker while the bytes still queue in the process).
 * A cancelled call never drains nor flushes, so cancellation ends both waits: it must not hold
 * a worker forever.
 */
async function write(
  call: ServerWritableStream<DownloadRequest, DownloadResponse>,
  msg: DownloadResponse,
  cancelled: Promise<void>,
): Promise<{ flushed: Promise<void> }> {
  let roomLeft = false;
  const flushed = Promise.race([new Promise<void>((resolve) => (roomLeft = call.write(msg, () => resolve()))), cancelled]);
  if (!roomLeft) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), cancelled]);
  return { flushed };
}

export async function stat(ctx: ApiContext, req: StatRequest): Promise<StatResponse> {
  if (req.consistency === ReadConsistency.READ_CONSISTENCY_LINEARIZABLE) await ctx.loop.readBarrier();
  return { info: fileInfo(await findFile(ctx, req.hash, req.name)) };
}

export async function list(ctx: ApiContext, req: ListRequest): Promise<ListResponse> {
  const limit = req.limit === 0 ? 100 : req.limit;
  if (limit > 1000) throw grpcError(status.INVALID_ARGUMENT, 'limit must be at most 1000');
  try {
    const page = await ctx.sm.catalog.listFiles({ limit, cursor: req.cursor || null, nameContains: req.nameFilter });
    return { files: page.files.map(fileInfo), nextCursor: page.nextCursor ?? '' };
  } catch (e) {
    if (e instanceof Error && /cursor/.test(e.message)) throw grpcError(status.INVALID_ARGUMENT, `"${req.cursor}" is not a cursor from a previous list`);
    throw e;
  }
}

/** Hash both sides first, so the comparison takes the same time whatever the lengths. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Deleting files and removing members need the host token. */
export function requireHostToken(ctx: ApiContext, token: string, what: string): void {
  if (!ctx.hostToken)
    throw grpcError(status.FAILED_PRECONDITION, `this node has no host token configured (--host-token or LARDER_HOST_TOKEN), so it cannot ${what}`);
  if (!tokenMatches(token, ctx.hostToken)) throw grpcError(status.PERMISSION_DENIED, 'wrong host token');
}

export async function remove(ctx: ApiContext, req: DeleteRequest): Promise<DeleteResponse> {
  requireHostToken(ctx, req.token, 'delete files');
  if (!sha256Hex.test(req.hash)) throw grpcError(status.INVALID_ARGUMENT, `"${req.hash}" is not a content hash (64 lowercase hex characters)`);
  if (!ctx.isLeader()) throw notLeader(ctx.leaderAddress());
  const r = await ctx.loop.propose(ctx.encode({ type: 'deleteFile', hash: req.hash }));
  if (!r.ok || r.command !== 'deleteFile') throw grpcError(status.INTERNAL, r.ok ? r.command : r.message);
  if (!r.deleted) throw grpcError(status.NOT_FOUND, `no file with hash ${req.hash}`);
  for (const c of r.unreferencedChunks) ctx.reader.forget(c);
  ctx.log.info({ hash: req.hash, chunksFreed: r.unreferencedChunks.length }, 'file deleted');
  return { deleted: true };
}
