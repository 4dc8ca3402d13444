import type { ClientWritableStream } from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/index.js';
import { RaftPeerServiceClient, type StreamRequest } from '../shared/proto/larder/v1/raft.js';
import { messageToWire } from './codec.js';
import type { PeerCredentials } from './types.js';

/** Bound on batches waiting for a slow or blocked stream; beyond it messages are dropped (Raft resends). */
const queuedBatchesMax = 256;

/**
 * The sending side towards one peer: one long-lived client stream carrying batches of messages.
 * A broken stream is reopened on the next send; what it lost, Raft retransmits.
 */
export class PeerClient {
  readonly client: InstanceType<typeof RaftPeerServiceClient>;
  private stream: ClientWritableStream<StreamRequest> | null = null;
  private blocked = false;
  private readonly waiting: StreamRequest[] = [];

  constructor(
    readonly peer: NodeId,
    readonly address: string,
    private readonly clusterId: string,
    credentials: PeerCredentials,
    private readonly onBroken: (peer: NodeId) => void,
  ) {
    this.client = new RaftPeerServiceClient(address, credentials.client, {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      // Peers are dialled by IP; TLS names a host, not an IP (RFC 6066), and identity is the node id in the certificate.
      'grpc.ssl_target_name_override': 'larder-node',
    });
  }

  send(messages: readonly Message[]): void {
    const batch: StreamRequest = { clusterId: this.clusterId, messages: messages.map(messageToWire) };
    if (this.blocked) {
      if (this.waiting.length >= queuedBatchesMax) {
        this.onBroken(this.peer);
        return;
      }
      this.waiting.push(batch);
      return;
    }
    this.write(batch);
  }

  private write(batch: StreamRequest): void {
    const stream = this.openStream();
    // write() returns false once grpc's buffer is full: hold further batches until 'drain'.
    if (!stream.write(batch)) this.blocked = true;
  }

  private openStream(): ClientWritableStream<StreamRequest> {
    if (this.stream) return this.stream;
    const stream = this.client.stream((err) => {
      if (this.stream === stream) this.reset();
      if (err) this.onBroken(this.peer);
    });
    stream.on('drain', () => this.drain());
    stream.on('error', () => {
      /* reported through the callback above */
    });
    this.stream = stream;
    return stream;
  }

  private drain(): void {
    this.blocked = false;
    while (!this.blocked && this.waiting.length > 0) this.write(this.waiting.shift()!);
  }

  private reset(): void {
    this.stream = null;
    this.blocked = false;
    this.waiting.length = 0;
  }

  close(): void {
    this.stream?.end();
    this.reset();
    this.client.close();
  }
}
