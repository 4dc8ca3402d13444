import { status, type ServerErrorResponse, type ServerReadableStream, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import type { Message } from '../raft/index.js';
import type {
  FetchChunkRequest,
  FetchChunkResponse,
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  RaftMessage,
  RaftPeerServiceServer,
  StreamRequest,
  StreamResponse,
} from '../shared/proto/larder/v1/raft.js';
import { WireError, messageFromWire } from './codec.js';
import type { PeerAuthorizer, PeerHandlers } from './types.js';

/** Largest snapshot accepted from a peer: the catalog and chunk list, not the chunks' bytes. */
export const snapshotBytesMax = 512 * 1024 * 1024;
const sha256Hex = /^[0-9a-f]{64}$/;

function grpcError(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

type AnyCall = { getPeer(): string; getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | null };

/**
 * A refusal for a caller that is not a peer of this cluster (logged with its address and the
 * reason), or null to go on. Checked per call: the port also serves LAN clients without certificates.
 */
function refuse(call: AnyCall, authorize: PeerAuthorizer | undefined, what: string, log: (msg: string) => void): ServerErrorResponse | null {
  if (!authorize) return null;
  const verdict = authorize(call.getAuthContext()?.sslPeerCertificate?.raw);
  if (verdict.ok) return null;
  log(`refused ${what} from ${call.getPeer()}: ${verdict.reason}`);
  return grpcError(status.UNAUTHENTICATED, `not a member of this cluster: ${verdict.reason}`);
}

/** The receiving side of peer traffic, for one node. */
export function peerService(clusterId: string, handlers: PeerHandlers, log: (msg: string) => void, authorize?: PeerAuthorizer): RaftPeerServiceServer {
  return {
    stream(call: ServerReadableStream<StreamRequest, StreamResponse>, callback: sendUnaryData<StreamResponse>): void {
      const denied = refuse(call, authorize, 'a peer stream', log);
      if (denied) {
        call.on('error', () => {});
        return callback(denied);
      }
      let failed = false;
      call.on('data', (req: StreamRequest) => {
        if (failed) return;
        const problem = deliverBatch(clusterId, req, handlers);
        if (problem) {
          failed = true;
          log(`refused peer stream from ${call.getPeer()}: ${problem.message}`);
          callback(problem);
        }
      });
      call.on('end', () => failed || callback(null, {}));
      call.on('error', () => {});
    },

    installSnapshot(call: ServerReadableStream<InstallSnapshotRequest, InstallSnapshotResponse>, callback: sendUnaryData<InstallSnapshotResponse>): void {
      const denied = refuse(call, authorize, 'a snapshot', log);
      if (denied) {
        call.on('error', () => {});
        return callback(denied);
      }
      const parts: Buffer[] = [];
      let bytes = 0;
      let head: RaftMessage | undefined;
      let done = false;
      const fail = (e: ServerErrorResponse): void => {
        if (done) return;
        done = true;
        log(`refused snapshot from ${call.getPeer()}: ${e.message}`);
        callback(e);
      };
      call.on('data', (req: InstallSnapshotRequest) => {
        if (req.clusterId !== clusterId) return fail(grpcError(status.PERMISSION_DENIED, `snapshot for cluster "${req.clusterId}", this is "${clusterId}"`));
        head ??= req.message;
        bytes += req.data.length;
        if (bytes > snapshotBytesMax) return fail(grpcError(status.RESOURCE_EXHAUSTED, `snapshot larger than ${snapshotBytesMax} bytes`));
        parts.push(req.data);
      });
      call.on('end', () => {
        if (done) return;
        if (!head) return fail(grpcError(status.INVALID_ARGUMENT, 'snapshot stream without its message'));
        try {
          const m = messageFromWire(head, new Uint8Array(Buffer.concat(parts, bytes)));
          if (m.type !== 'snap') return fail(grpcError(status.INVALID_ARGUMENT, `snapshot stream carrying a ${m.type} message`));
          handlers.onMessage(m);
          done = true;
          callback(null, { installed: true });
        } catch (e) {
          fail(toStatus(e));
        }
      });
      call.on('error', () => {});
    },

    fetchChunk(call: ServerWritableStream<FetchChunkRequest, FetchChunkResponse>): void {
      const { hash } = call.request;
      // grpc-js ends a server stream with a status when 'error' is emitted on it.
      const fail = (code: status, details: string): void => void call.emit('error', grpcError(code, details));
      const denied = refuse(call, authorize, `chunk ${hash.slice(0, 12)}`, log);
      if (denied) return void call.emit('error', denied);
      if (call.request.clusterId !== clusterId) return fail(status.PERMISSION_DENIED, 'wrong cluster');
      if (!sha256Hex.test(hash)) return fail(status.INVALID_ARGUMENT, `"${hash}" is not a SHA-256 hex digest`);
      handlers.readChunk(hash).then(
        (data) => {
          if (!data) return fail(status.NOT_FOUND, `chunk ${hash} is not held here`);
          call.write({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
          call.end();
        },
        (e: unknown) => fail(status.INTERNAL, `reading chunk ${hash}: ${e instanceof Error ? e.message : String(e)}`),
      );
    },
  };
}

function deliverBatch(clusterId: string, req: StreamRequest, handlers: PeerHandlers): ServerErrorResponse | null {
  if (req.clusterId !== clusterId) return grpcError(status.PERMISSION_DENIED, `batch for cluster "${req.clusterId}", this is "${clusterId}"`);
  const messages: Message[] = [];
  try {
    for (const w of req.messages) messages.push(messageFromWire(w));
  } catch (e) {
    return toStatus(e);
  }
  for (const m of messages) handlers.onMessage(m);
  return null;
}

function toStatus(e: unknown): ServerErrorResponse {
  if (e instanceof WireError) return grpcError(status.INVALID_ARGUMENT, e.message);
  return grpcError(status.INTERNAL, e instanceof Error ? e.message : String(e));
}
