/**
 * Data types of the Raft core. Everything here is plain data: no classes, no I/O, so it can be
 * persisted, sent and compared by the layers around the core.
 */

/** A node's identity, unique within a cluster and stable across restarts. */
export type NodeId = string;

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** A membership change. Only one is in flight at a time (see conf-change.ts for why). */
export type ConfChange =
  | { readonly type: 'addVoter'; readonly node: NodeId }
  | { readonly type: 'addLearner'; readonly node: NodeId }
  | { readonly type: 'removeNode'; readonly node: NodeId };

export interface NormalEntry {
  readonly kind: 'normal';
  readonly term: number;
  readonly index: number;
  /** Application payload. An empty payload is the no-op a new leader appends. */
  readonly data: Uint8Array;
}

export interface ConfChangeEntry {
  readonly kind: 'confChange';
  readonly term: number;
  readonly index: number;
  readonly change: ConfChange;
}

export type Entry = NormalEntry | ConfChangeEntry;

/** What must be durable before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** Opaque application state as of `metadata.index`. */
  readonly data: Uint8Array;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface VoteRequest extends MessageBase {
  readonly type: 'preVote' | 'vote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set when campaigning on a leader's TimeoutNow: voters then ignore their leader lease. */
  readonly transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  readonly type: 'preVoteResp' | 'voteResp';
  readonly reject: boolean;
}

export interface AppendRequest extends MessageBase {
  readonly type: 'app';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends MessageBase {
  readonly type: 'appResp';
  /** On success: the last index now matching the leader. On reject: the rejected prevIndex. */
  readonly index: number;
  readonly reject: boolean;
  /** On reject: a hint for fast backtracking, the follower's best guess of a matching index. */
  readonly rejectHint: number;
  /** On reject: the follower's term at rejectHint. */
  readonly logTerm: number;
}

export interface Heartbeat extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  /** ReadIndex round this heartbeat confirms leadership for, if any. */
  readonly context: string | null;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResp';
  readonly context: string | null;
}

export interface InstallSnapshot extends MessageBase {
  readonly type: 'snap';
  readonly snapshot: Snapshot;
}

export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of its client. */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResp';
  readonly context: string;
  /** The index a read must wait for; -1 when the leader refused (it has since lost leadership). */
  readonly index: number;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

/** A read that may be served once the local applied index reaches `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

/** Volatile state, reported only when it changes; never persisted. */
export interface SoftState {
  readonly lead: NodeId | null;
  readonly role: Role;
}

/**
 * The core's output. The caller must, in this order:
 * 1. persist `snapshot`, `entries` and `hardState` (fsync'd if `mustSync`),
 * 2. then send `messages` (they may depend on what was just persisted: votes, appends, acks),
 * 3. apply `committedEntries` and serve `readStates` once applied reaches their index,
 * 4. call `advance(ready)`.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === null && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Size in bytes an entry counts for when batching (payload plus a fixed header). */
export function entrySize(e: Entry): number {
  const headerBytes = 24;
  return headerBytes + (e.kind === 'normal' ? e.data.length : 48);
}
