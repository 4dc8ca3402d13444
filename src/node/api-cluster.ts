import { status, type ServerWritableStream } from '@grpc/grpc-js';
import type { StatusView } from '../store/index.js';
import {
  FileStatus,
  type AcquireLockRequest,
  type AcquireLockResponse,
  type ClusterInfoResponse,
  type GetStatusRequest,
  type GetStatusResponse,
  type KeepAliveLockRequest,
  type KeepAliveLockResponse,
  type ReleaseLockRequest,
  type ReleaseLockResponse,
  type RemoveMemberRequest,
  type RemoveMemberResponse,
  type WatchStatusRequest,
  type WatchStatusResponse,
} from '../shared/proto/larder/v1/store.js';
import type { ApiContext } from './api-context.js';
import { grpcError, notLeader, toGrpcError } from './api-errors.js';
import { requireHostToken } from './api-files.js';
import { MembershipError } from './membership.js';

const sha256Hex = /^[0-9a-f]{64}$/;
const statusCodes: Record<StatusView['status'], FileStatus> = {
  queued: FileStatus.FILE_STATUS_QUEUED,
  processing: FileStatus.FILE_STATUS_PROCESSING,
  done: FileStatus.FILE_STATUS_DONE,
  duplicate: FileStatus.FILE_STATUS_DUPLICATE,
  error: FileStatus.FILE_STATUS_ERROR,
};
const finalStatuses = new Set<StatusView['status']>(['done', 'duplicate', 'error']);

function checkHash(hash: string): void {
  if (!sha256Hex.test(hash)) throw grpcError(status.INVALID_ARGUMENT, `"${hash}" is not a content hash (64 lowercase hex characters)`);
}

export async function getStatus(ctx: ApiContext, req: GetStatusRequest): Promise<GetStatusResponse> {
  checkHash(req.hash);
  const s = await ctx.sm.catalog.getStatus(req.hash);
  if (!s) throw grpcError(status.NOT_FOUND, `nothing is known about ${req.hash}: it was never uploaded to this cluster`);
  return { hash: s.hash, status: statusCodes[s.status], message: s.message ?? '', updatedAtMs: Date.now() };
}

/** Streams the status now and at every change, until it is final or the client goes away. */
export async function watchStatus(ctx: ApiContext, call: ServerWritableStream<WatchStatusRequest, WatchStatusResponse>): Promise<void> {
  try {
    checkHash(call.request.hash);
    let last: string | null = null;
    while (!call.cancelled) {
      const s = await ctx.sm.catalog.getStatus(call.request.hash);
      const key = s ? `${s.status}:${s.message ?? ''}` : 'none';
      if (s && key !== last) {
        call.write({ hash: s.hash, status: statusCodes[s.status], message: s.message ?? '', updatedAtMs: Date.now() });
        last = key;
        if (finalStatuses.has(s.status)) break;
      }
      await ctx.statusChanged(call.request.hash, 1000);
    }
    call.end();
  } catch (e) {
    call.emit('error', toGrpcError(e, ctx.leaderAddress));
  }
}

export function clusterInfo(ctx: ApiContext): ClusterInfoResponse {
  const st = ctx.loop.status();
  const peers = [...st.confState.voters.map((id) => [id, 'voter'] as const), ...st.confState.learners.map((id) => [id, 'learner'] as const)];
  return {
    clusterId: ctx.clusterId,
    nodeId: ctx.nodeId,
    address: ctx.address,
    role: st.role,
    term: st.term,
    leaderId: st.lead ?? '',
    leaderAddress: ctx.leaderAddress() ?? '',
    commitIndex: st.commit,
    appliedIndex: st.applied,
    firstIndex: st.firstIndex,
    lastIndex: st.lastIndex,
    peers: peers.map(([id, membership]) => {
      const pr = st.progress?.[id];
      return {
        id,
        address: ctx.peerAddress(id) ?? '',
        membership,
        matchIndex: pr?.match ?? 0,
        nextIndex: pr?.next ?? 0,
        progress: pr?.state ?? '',
        lastContactMsAgo: id === ctx.nodeId ? 0 : (ctx.lastContactMsAgo(id) ?? -1),
      };
    }),
    admission: ctx.admissionStats(),
  };
}

function requireLeader(ctx: ApiContext): void {
  if (!ctx.isLeader()) throw notLeader(ctx.leaderAddress());
}

export async function acquireLock(ctx: ApiContext, req: AcquireLockRequest): Promise<AcquireLockResponse> {
  if (!req.key || !req.holder) throw grpcError(status.INVALID_ARGUMENT, 'a lock needs a key and a holder');
  if (req.ttlMs < 1) throw grpcError(status.INVALID_ARGUMENT, 'ttl_ms must be at least 1');
  const giveUpAt = Date.now() + req.waitMs;
  for (;;) {
    requireLeader(ctx);
    const r = await ctx.loop.propose(ctx.encode({ type: 'acquireLock', key: req.key, holder: req.holder, ttlMs: req.ttlMs, nowMs: Date.now() }));
    if (r.ok && r.command === 'acquireLock') return { acquired: true, fencingToken: r.token, expiresAtMs: r.leaseExpiresAtMs, holder: req.holder };
    if (r.ok || r.code !== 'LOCK_HELD') throw grpcError(status.INVALID_ARGUMENT, r.ok ? r.command : r.message);
    if (Date.now() >= giveUpAt) return { acquired: false, fencingToken: 0, expiresAtMs: r.heldBy?.leaseExpiresAtMs ?? 0, holder: r.heldBy?.holder ?? '' };
    await new Promise((res) => setTimeout(res, Math.min(200, Math.max(1, giveUpAt - Date.now()))));
  }
}

export async function keepAliveLock(ctx: ApiContext, req: KeepAliveLockRequest): Promise<KeepAliveLockResponse> {
  requireLeader(ctx);
  const r = await ctx.loop.propose(ctx.encode({ type: 'keepAliveLock', key: req.key, token: req.fencingToken, nowMs: Date.now() }));
  if (!r.ok) throw grpcError(status.FAILED_PRECONDITION, r.message);
  if (r.command !== 'keepAliveLock') throw grpcError(status.INTERNAL, `keepAliveLock answered ${r.command}`);
  return { expiresAtMs: r.leaseExpiresAtMs };
}

export async function releaseLock(ctx: ApiContext, req: ReleaseLockRequest): Promise<ReleaseLockResponse> {
  requireLeader(ctx);
  const r = await ctx.loop.propose(ctx.encode({ type: 'releaseLock', key: req.key, token: req.fencingToken }));
  if (!r.ok) throw grpcError(status.FAILED_PRECONDITION, r.message);
  return { released: r.command === 'releaseLock' && r.released };
}

export async function removeMember(ctx: ApiContext, req: RemoveMemberRequest): Promise<RemoveMemberResponse> {
  requireHostToken(ctx, req.token, 'remove members');
  if (!req.id) throw grpcError(status.INVALID_ARGUMENT, 'which member? give its node id');
  requireLeader(ctx);
  try {
    return { removed: await ctx.removeMember(req.id) };
  } catch (e) {
    if (e instanceof MembershipError) throw grpcError(status.FAILED_PRECONDITION, e.message);
    throw e;
  }
}
