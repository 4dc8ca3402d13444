import { status, type ServiceError } from '@grpc/grpc-js';
import type { InstallSnapshot, Message, NodeId } from '../raft/index.js';
import { RaftPeerServiceService, type InstallSnapshotRequest, type RaftPeerServiceServer } from '../shared/proto/larder/v1/raft.js';
import { messageToWire } from './codec.js';
import { PeerClient } from './peer-client.js';
import { peerService } from './peer-server.js';
import { TransportError, type PeerCredentials, type PeerHandlers } from './types.js';

const snapshotPieceBytes = 1024 * 1024;

export interface PeerTransportInit {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly credentials: PeerCredentials;
  readonly handlers: PeerHandlers;
  /** Where a peer listens (host:port), or null if unknown (messages to it are dropped). */
  readonly resolveAddress: (peer: NodeId) => string | null;
  readonly log?: (message: string) => void;
}

/**
 * Raft's transport over gRPC: batches of messages on one long-lived stream per peer, snapshots
 * streamed in pieces, chunks fetched by hash. Delivery is best-effort, as Raft expects.
 */
export class PeerTransport {
  private readonly clients = new Map<NodeId, PeerClient>();
  private readonly log: (message: string) => void;

  constructor(private readonly init: PeerTransportInit) {
    this.log = init.log ?? (() => {});
  }

  /** The service to register on the node's gRPC server. */
  service(): { definition: typeof RaftPeerServiceService; implementation: RaftPeerServiceServer } {
    return {
      definition: RaftPeerServiceService,
      implementation: peerService(this.init.clusterId, this.init.handlers, this.log, this.init.credentials.authorize),
    };
  }

  send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (m.type === 'snap') {
        this.sendSnapshot(m);
        continue;
      }
      let list = byPeer.get(m.to);
      if (!list) byPeer.set(m.to, (list = []));
      list.push(m);
    }
    for (const [peer, list] of byPeer) {
      const client = this.client(peer);
      if (client) client.send(list);
      else this.init.handlers.onUnreachable(peer);
    }
  }

  private client(peer: NodeId): PeerClient | null {
    const address = this.init.resolveAddress(peer);
    if (!address) return null;
    const existing = this.clients.get(peer);
    if (existing && existing.address === address) return existing;
    existing?.close();
    const created = new PeerClient(peer, address, this.init.clusterId, this.init.credentials, (p) => this.init.handlers.onUnreachable(p));
    this.clients.set(peer, created);
    return created;
  }

  private sendSnapshot(m: InstallSnapshot): void {
    const client = this.client(m.to);
    if (!client) return this.init.handlers.onSnapshotStatus(m.to, false);
    const call = client.client.installSnapshot((err, res) => {
      const ok = !err && res.installed;
      if (!ok) this.log(`snapshot to ${m.to} failed: ${err?.message ?? 'not installed'}`);
      this.init.handlers.onSnapshotStatus(m.to, ok);
    });
    const data = m.snapshot.data;
    const head: InstallSnapshotRequest = {
      clusterId: this.init.clusterId,
      message: messageToWire(m),
      data: Buffer.alloc(0),
      last: data.length === 0,
      crc32c: 0,
    };
    call.write(head);
    for (let off = 0; off < data.length; off += snapshotPieceBytes) {
      const piece = data.subarray(off, off + snapshotPieceBytes);
      call.write({
        clusterId: this.init.clusterId,
        message: undefined,
        data: Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength),
        last: off + snapshotPieceBytes >= data.length,
        crc32c: 0,
      });
    }
    call.end();
  }

  /** Fetches a chunk's bytes from a peer. The caller verifies them against the hash. */
  fetchChunk(peer: NodeId, hash: string, deadlineMs = 10_000): Promise<Uint8Array> {
    const client = this.client(peer);
    if (!client) return Promise.reject(new TransportError('UNKNOWN_PEER', `no address known for peer ${peer}`));
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      const call = client.client.fetchChunk({ clusterId: this.init.clusterId, hash }, { deadline: Date.now() + deadlineMs });
      call.on('data', (res: { data: Buffer }) => parts.push(res.data));
      call.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
      call.on('error', (e: ServiceError) => {
        const code = e.code === status.NOT_FOUND ? 'CHUNK_NOT_FOUND' : 'PEER_UNAVAILABLE';
        reject(new TransportError(code, `fetching chunk ${hash} from ${peer}: ${e.details || e.message}`));
      });
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
