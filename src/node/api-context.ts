import type { AdmissionController } from '../admission/index.js';
import type { AdmissionStats } from '../shared/proto/larder/v1/store.js';
import type { Command, StateMachine, ApplyResult } from '../store/index.js';
import type { ChunkReader } from './chunk-reader.js';
import type { UploadForwarder } from './forward.js';
import type { Logger } from './log.js';
import type { RaftLoop } from './raft-loop.js';
import type { UploadDeps } from './upload.js';

/** What the client API handlers need of their node. */
export interface ApiContext {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly address: string;
  readonly loop: RaftLoop<ApplyResult>;
  readonly sm: StateMachine;
  readonly reader: ChunkReader;
  readonly log: Logger;
  readonly hostToken: string | undefined;
  readonly forwardUploads: boolean;
  readonly leaseMs: number;
  /** Relays uploads that reach a follower to the leader. */
  readonly forwarder: UploadForwarder;
  /** Uploads and downloads run through it (queues, workers, load shedding). */
  readonly admission: AdmissionController;
  admissionStats(): AdmissionStats;
  /** Calls `listener` when the node begins to stop; returns a function that unsubscribes. */
  onStop(listener: () => void): () => void;
  isLeader(): boolean;
  leaderAddress(): string | null;
  peerAddress(id: string): string | null;
  /** Milliseconds since a message from the peer last arrived, or null if never. */
  lastContactMsAgo(id: string): number | null;
  uploadDeps(): UploadDeps;
  encode(command: Command): Uint8Array;
  /** Removes a member (on the leader); false if it was not one. */
  removeMember(id: string): Promise<boolean>;
  /** Resolves at the next applied change to this hash's status, or after `timeoutMs`. */
  statusChanged(hash: string, timeoutMs: number): Promise<void>;
}
