import type { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/index.js';

/** Whether a caller may use the peer service, judged from the TLS certificate it presented (if any). */
export type PeerAuthorizer = (peerCertificateDer: Buffer | undefined) => { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * How peers authenticate each other: the credentials a node dials peers with, and the check every
 * incoming peer call passes (src/trust: mutual TLS under the cluster CA). Without `authorize`
 * every caller is accepted (tests of the transport alone).
 */
export interface PeerCredentials {
  readonly server: ServerCredentials;
  readonly client: ChannelCredentials;
  readonly authorize?: PeerAuthorizer;
}

export interface PeerHandlers {
  /** A message from a peer, validated (a 'snap' message arrives with its data). */
  onMessage(m: Message): void;
  /** The transport gave up on a message to `to` (its stream failed): the core should probe. */
  onUnreachable(to: NodeId): void;
  /** A snapshot send finished or failed. */
  onSnapshotStatus(to: NodeId, ok: boolean): void;
  /** A chunk's bytes by SHA-256 hex, for peers that lack it; null if not held here. */
  readChunk(hash: string): Promise<Uint8Array | null>;
}

export class TransportError extends Error {
  constructor(
    readonly code: 'UNKNOWN_PEER' | 'WRONG_CLUSTER' | 'SNAPSHOT_TOO_LARGE' | 'CHUNK_NOT_FOUND' | 'PEER_UNAVAILABLE',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
