import http2 from 'node:http2';
import { shedReasonKey } from '../client/retry.js';
import { DownloadRequest, LarderServiceService, ReadConsistency, UploadRequest, UploadResponse } from '../shared/proto/larder/v1/store.js';

export type RequestKind = 'upload' | 'download';

/** How one request ended, as the load generator counts it (one attempt, no retries). */
export type Outcome =
  | { readonly kind: 'ok'; readonly ms: number }
  | { readonly kind: 'shed'; readonly reason: string; readonly ms: number }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'error'; readonly message: string; readonly ms: number };

/**
 * The generator speaks gRPC over node:http2 directly instead of through grpc-js: it counts the
 * bytes of a download instead of decoding them, and skips grpc-js's per-call machinery. A grpc-js
 * client costs about what the node costs per request, so a generator built on it, given the
 * same CPU, could not offer a node several times what the node can serve.
 */
export type Connection = http2.ClientHttp2Session;

export function connect(endpoint: string): Connection {
  // Nodes speak TLS; the generator, like any LAN client, does not verify them (see lanClientCredentials).
  const session = http2.connect(`https://${endpoint}`, { rejectUnauthorized: false, settings: { initialWindowSize: 4 << 20, maxFrameSize: (1 << 24) - 1 } });
  session.on('error', () => {}); // each stream reports its own failure
  // The connection-level window: room for many downloads in flight (the handle exists once connected).
  session.once('connect', () => session.destroyed || session.setLocalWindowSize(64 << 20));
  return session;
}

/** gRPC length-prefixed message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

interface CallResult {
  readonly status: number | null;
  readonly message: string;
  readonly shedReason: string | undefined;
  readonly bytes: number;
  readonly timedOut: boolean;
  readonly body: Buffer[];
}

/** One unary-request call; `keepBody` keeps the response bytes (small answers only). */
function call(conn: Connection, path: string, request: Buffer, deadlineMs: number, keepBody: boolean): Promise<CallResult> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let message = '';
    let shedReason: string | undefined;
    let bytes = 0;
    const body: Buffer[] = [];
    let timedOut = false;
    const headers = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      if (h[shedReasonKey] !== undefined) shedReason = String(h[shedReasonKey]);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = conn.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, Math.floor(deadlineMs))}m`,
      });
    } catch (e) {
      return resolve({ status: null, message: (e as Error).message, shedReason, bytes, timedOut, body });
    }
    const timer = setTimeout(() => {
      timedOut = true;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, deadlineMs);
    stream.on('response', headers);
    stream.on('trailers', headers);
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
      if (keepBody) body.push(d);
    });
    stream.on('error', (e: Error) => (message ||= e.message));
    stream.on('close', () => {
      clearTimeout(timer);
      resolve({ status, message, shedReason, bytes, timedOut, body });
    });
    stream.end(request);
  });
}

function outcomeOf(r: CallResult, startedAt: number, ok: () => string | null): Outcome {
  const ms = performance.now() - startedAt;
  if (r.shedReason !== undefined) return { kind: 'shed', reason: r.shedReason, ms };
  if (r.timedOut || r.status === 4) return { kind: 'timeout', ms };
  if (r.status !== 0) return { kind: 'error', message: `grpc-status ${r.status}: ${r.message}`, ms };
  const problem = ok();
  return problem === null ? { kind: 'ok', ms } : { kind: 'error', message: problem, ms };
}

/** Downloads a whole file once, within `deadlineMs`; ok when at least its bytes arrived. */
export async function downloadOnce(conn: Connection, hash: string, expectedBytes: number, deadlineMs: number): Promise<Outcome> {
  const startedAt = performance.now();
  const req = frame(DownloadRequest.encode({ hash, name: '', offset: 0, length: 0, consistency: ReadConsistency.READ_CONSISTENCY_UNSPECIFIED }).finish());
  const r = await call(conn, LarderServiceService.download.path, req, deadlineMs, false);
  return outcomeOf(r, startedAt, () => (r.bytes >= expectedBytes ? null : `got ${r.bytes} bytes, expected at least ${expectedBytes}`));
}

/** Uploads `data` once as `name`; `onAck` gets the hash of an acknowledged upload. */
export async function uploadOnce(
  conn: Connection,
  name: string,
  data: Uint8Array,
  deadlineMs: number,
  onAck: (hash: string) => void = () => {},
): Promise<Outcome> {
  const startedAt = performance.now();
  const messages = [
    UploadRequest.encode({
      header: { name, mime: 'application/octet-stream', size: data.length, noForward: false, uploadId: '' },
      data: Buffer.alloc(0),
      complete: false,
    }).finish(),
    UploadRequest.encode({ header: undefined, data: Buffer.from(data), complete: true }).finish(),
  ];
  const r = await call(conn, LarderServiceService.upload.path, Buffer.concat(messages.map(frame)), deadlineMs, true);
  return outcomeOf(r, startedAt, () => {
    const body = Buffer.concat(r.body);
    if (body.length < 5) return 'no response message';
    onAck(UploadResponse.decode(body.subarray(5, 5 + body.readUInt32BE(1))).hash);
    return null;
  });
}
