import { RaftError } from './errors.js';
import type { Storage } from './storage.js';
import type { NodeId } from './types.js';

/** Where the core reports noteworthy events; it never logs anywhere by itself. */
export interface RaftLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: RaftLogger = { info: () => {}, warn: () => {} };

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Ticks without hearing from a leader before campaigning; the real timeout is drawn from [electionTick, 2*electionTick). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats. Must be well under electionTick. */
  readonly heartbeatTick: number;
  /** Injected randomness: an integer uniformly in [0, n). The core has no randomness of its own. */
  readonly randomInt: (n: number) => number;
  /** Pre-vote (Raft thesis §9.6): a partitioned node cannot disrupt the cluster when it returns. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Upper bound on the entry bytes in one append message (batching). */
  readonly maxSizePerMsg?: number;
  /** Upper bound on unacknowledged appends in flight to one follower (pipelining). */
  readonly maxInflightMsgs?: number;
  /** The leader drops proposals while this many bytes are appended but not committed. */
  readonly maxUncommittedBytes?: number;
  /** Upper bound on the entry bytes handed out for applying in one Ready. */
  readonly maxApplyBytes?: number;
  /** Upper bound on ReadIndex requests waiting on the leader. */
  readonly maxPendingReads?: number;
  /** The index the application has already applied (on restart). */
  readonly applied?: number;
  readonly logger?: RaftLogger;
}

export type ResolvedConfig = Required<RaftConfig>;

export function resolveConfig(c: RaftConfig): ResolvedConfig {
  const resolved: ResolvedConfig = {
    preVote: true,
    checkQuorum: true,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
    maxUncommittedBytes: 64 * 1024 * 1024,
    maxApplyBytes: 64 * 1024 * 1024,
    maxPendingReads: 4096,
    applied: 0,
    logger: silentLogger,
    ...c,
  };
  const fail = (why: string): never => {
    throw new RaftError('INVALID_CONFIG', `invalid raft config: ${why}`);
  };
  if (resolved.id === '') fail('id must not be empty');
  if (!(resolved.heartbeatTick > 0)) fail('heartbeatTick must be positive');
  if (!(resolved.electionTick > resolved.heartbeatTick)) fail('electionTick must be greater than heartbeatTick');
  if (!(resolved.maxInflightMsgs > 0)) fail('maxInflightMsgs must be positive');
  if (!(resolved.maxSizePerMsg > 0)) fail('maxSizePerMsg must be positive');
  if (!(resolved.maxPendingReads > 0)) fail('maxPendingReads must be positive');
  return resolved;
}
