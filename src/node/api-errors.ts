import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import { leaderAddressKey } from '../client/retry.js';
import { ShedError, withoutStack } from '../admission/index.js';
import { ProposalDroppedError } from '../raft/index.js';
import { ChunkUnavailableError } from './chunk-reader.js';
import { ProposalOutcomeUnknownError, ProposalSupersededError } from './raft-loop.js';
import { UploadError } from './upload.js';

export function grpcError(code: status, details: string, metadata: Record<string, string> = {}): ServerErrorResponse {
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata: md });
}

/** NOT_LEADER: FAILED_PRECONDITION carrying the leader's address, which clients follow. */
export function notLeader(leaderAddress: string | null): ServerErrorResponse {
  if (!leaderAddress) return grpcError(status.UNAVAILABLE, 'no leader is elected right now; retry in a moment');
  return grpcError(status.FAILED_PRECONDITION, `not the leader; the leader is ${leaderAddress}`, { [leaderAddressKey]: leaderAddress });
}

/** Maps what can go wrong inside a node to a status a client can act on. */
export function toGrpcError(e: unknown, leaderAddress: () => string | null): ServerErrorResponse {
  if (e instanceof ShedError) return withoutStack(() => grpcError(e.grpcCode, e.message, e.metadata()));
  if (e instanceof UploadError) {
    const code = e.code === 'LOCK_TIMEOUT' || e.code === 'REJECTED' ? status.ABORTED : status.INVALID_ARGUMENT;
    return grpcError(code, e.message);
  }
  if (e instanceof ProposalDroppedError) return notLeader(leaderAddress());
  if (e instanceof ProposalSupersededError || e instanceof ProposalOutcomeUnknownError) return grpcError(status.UNAVAILABLE, `${e.message}`);
  if (e instanceof ChunkUnavailableError) return grpcError(status.DATA_LOSS, e.message);
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'number') return e as ServerErrorResponse;
  return grpcError(status.INTERNAL, e instanceof Error ? e.message : String(e));
}
