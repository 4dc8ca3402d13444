import type { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/index.js';

/**
 * How peers authenticate each other. Today insecure on a trusted LAN; the trust issue plugs in
 * mutual TLS (or a pre-shared key) here without touching the transport.
 */
export interface PeerCredentials {
  readonly server: ServerCredentials;
  readonly client: ChannelCredentials;
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
