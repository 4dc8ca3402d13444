/** Typed errors of the Raft core; `code` is stable for callers to switch on. */

export type RaftErrorCode =
  | 'COMPACTED'
  | 'SNAPSHOT_OUT_OF_DATE'
  | 'UNAVAILABLE'
  | 'SNAPSHOT_TEMPORARILY_UNAVAILABLE'
  | 'PROPOSAL_DROPPED'
  | 'INVALID_CONFIG'
  | 'INVARIANT';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RaftError';
  }
}

/** The requested index precedes the first index still held (it was compacted into a snapshot). */
export const errCompacted = (index: number, firstIndex: number): RaftError =>
  new RaftError('COMPACTED', `index ${index} is compacted; first available index is ${firstIndex}`);

export const errUnavailable = (index: number, lastIndex: number): RaftError =>
  new RaftError('UNAVAILABLE', `index ${index} is past the last index ${lastIndex}`);

/**
 * A proposal the core will not accept right now (not leader, a leadership transfer in progress,
 * another membership change pending). Safe to retry: nothing was appended.
 */
export class ProposalDroppedError extends RaftError {
  constructor(
    readonly reason: string,
    readonly leaderHint: string | null,
  ) {
    super('PROPOSAL_DROPPED', `proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

/** Thrown when the core detects an impossible state. Never caught inside the core. */
export class InvariantError extends RaftError {
  constructor(message: string) {
    super('INVARIANT', `raft invariant violated: ${message}`);
    this.name = 'InvariantError';
  }
}

/** Fail loudly and at once: a violated invariant means the node must not limp on. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
