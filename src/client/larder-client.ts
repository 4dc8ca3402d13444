import { randomUUID } from 'node:crypto';
import { Metadata, credentials as grpcCredentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  LarderServiceClient,
  ReadConsistency,
  type AcquireLockResponse,
  type ClusterInfoResponse,
  type FileInfo,
  type GetStatusResponse,
  type HealthResponse,
  type WatchMetricsResponse,
  type ListResponse,
  type UploadResponse,
  type WatchStatusResponse,
} from '../shared/proto/larder/v1/store.js';
import { LarderClientError, backoffMs, classify, clientTokenKey, defaultRetry, type RetryPolicy } from './retry.js';
import { AdaptiveThrottle, defaultThrottle, type ThrottleConfig } from './throttle.js';

export interface LarderClientInit {
  /** host:port of one or more nodes; reads go round-robin, writes follow the leader. */
  readonly endpoints: readonly string[];
  readonly retry?: Partial<RetryPolicy>;
  readonly credentials?: ChannelCredentials;
  /** Sent with every call, for clusters started with --client-token. */
  readonly clientToken?: string;
  /** Called when a request was shed by a node's admission control (before retrying). */
  readonly onShed?: (endpoint: string, retryAfterMs: number) => void;
  /**
   * Client-side throttling of uploads and downloads (throttle.ts): a node that keeps refusing is
   * sent fewer of them. On by default; false turns it off.
   */
  readonly throttle?: Partial<ThrottleConfig> | false;
}

/** The calls a node's admission control may refuse, and so the ones the client throttles. */
type AdmittedCall = 'upload' | 'download';

/** What the client saw, so callers can tell "the cluster said not now" from "it failed". */
export interface ClientStats {
  attempts: number;
  /** Attempts refused by a node's load shedding (each then retried, within the deadline). */
  shed: number;
  /** Attempts this client held back itself, never sent, because the node was refusing most (client-side throttling). */
  throttled: number;
  /** Calls that ended in an error the caller got (a shed one only if it was shed to the deadline). */
  failed: number;
  /** Of those, how many ended on a shed answer. */
  failedShed: number;
}

export interface UploadInput {
  readonly name: string;
  readonly mime: string;
  readonly size?: number;
  /** Re-creatable source of the bytes, so an upload can be retried from the start. */
  readonly open: () => AsyncIterable<Uint8Array>;
  readonly onProgress?: (bytesSent: number) => void;
}

export interface DownloadOptions {
  readonly offset?: number;
  readonly length?: number;
  readonly linearizable?: boolean;
}

type Stub = InstanceType<typeof LarderServiceClient>;

/**
 * Nodes speak TLS; a LAN client cannot verify them (only holders of the cluster secret could), so
 * it encrypts against passive listeners without checking who answers. The client API is open to
 * the LAN by design; deletes need the host token.
 */
export const nodeChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // Nodes are dialled by IP, and TLS server names must not be IPs (RFC 6066; Node warns).
  'grpc.ssl_target_name_override': 'larder-node',
};

/** Uploads are given at least the time to send their bytes at this rate (a slow Wi-Fi link). */
const uploadFloorBytesPerSec = 2 * 1024 * 1024;

export function lanClientCredentials(): ChannelCredentials {
  return grpcCredentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}

/** Adds the client token to every call made over `channel` (call credentials ride on TLS). */
export function withClientToken(channel: ChannelCredentials, token: string | undefined): ChannelCredentials {
  if (!token) return channel;
  const perCall = grpcCredentials.createFromMetadataGenerator((_params, done) => {
    const md = new Metadata();
    md.set(clientTokenKey, token);
    done(null, md);
  });
  return grpcCredentials.combineChannelCredentials(channel, perCall);
}

/**
 * The client of a Larder cluster, used by the CLI, the UI's host and the tests. Retries with
 * exponential backoff and full jitter under a total deadline, follows leader hints, and resumes
 * interrupted downloads at the byte where they stopped.
 */
export class LarderClient {
  private readonly stubs = new Map<string, Stub>();
  private readonly policy: RetryPolicy;
  private readonly endpoints: string[];
  private next = 0;
  private leader: string | null = null;
  private readonly counts: ClientStats = { attempts: 0, shed: 0, throttled: 0, failed: 0, failedShed: 0 };
  private readonly throttles = new Map<string, AdaptiveThrottle>();

  constructor(private readonly init: LarderClientInit) {
    if (init.endpoints.length === 0) throw new LarderClientError('NO_ENDPOINTS', 'give at least one node address (host:port)', null, false);
    this.endpoints = [...init.endpoints];
    this.policy = { ...defaultRetry, ...init.retry };
  }

  stats(): ClientStats {
    return { ...this.counts };
  }

  close(): void {
    for (const s of this.stubs.values()) s.close();
    this.stubs.clear();
  }

  private stub(endpoint: string): Stub {
    let s = this.stubs.get(endpoint);
    if (!s) {
      s = new LarderServiceClient(endpoint, withClientToken(this.init.credentials ?? lanClientCredentials(), this.init.clientToken), nodeChannelOptions);
      this.stubs.set(endpoint, s);
    }
    return s;
  }

  /** One throttle per node and kind of call: a node refusing downloads may still take uploads. */
  private throttleFor(endpoint: string, call: AdmittedCall | undefined): AdaptiveThrottle | null {
    if (call === undefined || this.init.throttle === false) return null;
    const key = `${call} ${endpoint}`;
    let t = this.throttles.get(key);
    if (!t) {
      t = new AdaptiveThrottle({ ...defaultThrottle, ...this.init.throttle }, Date.now, Math.random);
      this.throttles.set(key, t);
    }
    return t;
  }

  private pick(kind: 'read' | 'write'): string {
    if (kind === 'write' && this.leader) return this.leader;
    const e = this.endpoints[this.next++ % this.endpoints.length]!;
    return e;
  }

  /**
   * Runs `attempt` against nodes until it succeeds, fails for good, or the deadline passes.
   * `admitted`: the call is throttled as that kind. `freshOnNotFound`: a NOT_FOUND is asked once
   * more as a linearizable read (`attempt` gets fresh = true) before it is believed: files are
   * immutable, so "not found" is the one thing a node that has not applied the latest commits can
   * get wrong, and a client reading its own upload back from a follower must not see it.
   */
  private async withRetry<T>(
    kind: 'read' | 'write',
    attempt: (stub: Stub, deadline: Date, fresh: boolean) => Promise<T>,
    times: Pick<RetryPolicy, 'deadlineMs' | 'attemptTimeoutMs'> = this.policy,
    how: { admitted?: AdmittedCall; freshOnNotFound?: boolean } = {},
  ): Promise<T> {
    const deadlineAt = Date.now() + times.deadlineMs;
    /** The last shed answer: what a call that ends held back, or out of time after sheds, reports. */
    let lastShed: LarderClientError | null = null;
    let fresh = false;
    for (let n = 0; ; n++) {
      const endpoint = this.pick(kind);
      const throttle = this.throttleFor(endpoint, how.admitted);
      if (throttle && !throttle.allow()) {
        this.counts.throttled++;
        const wait = backoffMs(n, this.policy);
        if (Date.now() + wait >= deadlineAt) throw this.failed(lastShed ?? throttledError(endpoint));
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      this.counts.attempts++;
      try {
        const result = await attempt(this.stub(endpoint), new Date(Math.min(deadlineAt, Date.now() + times.attemptTimeoutMs)), fresh);
        throttle?.accepted();
        return result;
      } catch (e) {
        const err = e as ServiceError;
        if (typeof err.code !== 'number') throw this.failed(e);
        const outcome = classify(err);
        if (!refusedForLoad(err, outcome)) throttle?.accepted();
        if (err.code === status.NOT_FOUND && how.freshOnNotFound && !fresh) {
          fresh = true;
          continue;
        }
        if (outcome.kind === 'retry' && outcome.shed) {
          this.counts.shed++;
          lastShed = toClientError(err, endpoint, true);
        }
        // Out of time in an attempt after being shed: the sheds are what the caller needs to hear.
        const gaveUp = (): LarderClientError => (err.code === status.DEADLINE_EXCEEDED && lastShed ? lastShed : toClientError(err, endpoint, true));
        if (Date.now() >= deadlineAt) throw this.failed(gaveUp());
        if (outcome.kind === 'fail') throw this.failed(toClientError(err, endpoint));
        if (outcome.leaderHint) {
          this.leader = outcome.leaderHint;
          if (!this.endpoints.includes(outcome.leaderHint)) this.endpoints.push(outcome.leaderHint);
        } else if (kind === 'write') this.leader = null;
        if (outcome.shed) this.init.onShed?.(endpoint, outcome.retryAfterMs);
        const wait = Math.max(outcome.leaderHint && !outcome.shed ? 0 : backoffMs(n, this.policy), outcome.retryAfterMs);
        if (Date.now() + wait >= deadlineAt) throw this.failed(gaveUp());
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private failed(e: unknown): unknown {
    this.counts.failed++;
    if (e instanceof LarderClientError && e.shed) this.counts.failedShed++;
    return e;
  }

  /**
   * An upload restarts from its first byte when retried, so an attempt is never cut short by
   * attemptTimeoutMs, and a large file gets at least the time it needs at a slow LAN's pace.
   */
  upload(input: UploadInput): Promise<UploadResponse> {
    const needMs = ((input.size ?? 0) / uploadFloorBytesPerSec) * 1000;
    const deadlineMs = Math.max(this.policy.deadlineMs, needMs);
    // One id for every attempt: a retry may take over the lock an interrupted attempt left.
    const uploadId = randomUUID();
    return this.withRetry(
      'write',
      (stub, deadline) => uploadOnce(stub, deadline, input, uploadId),
      { deadlineMs, attemptTimeoutMs: deadlineMs },
      { admitted: 'upload' },
    );
  }

  /** Streams a file's bytes into `sink`; an interrupted download resumes where it stopped. */
  async download(ref: { hash?: string; name?: string }, sink: (data: Uint8Array) => void | Promise<void>, opts: DownloadOptions = {}): Promise<FileInfo> {
    let received = 0;
    let info: FileInfo | undefined;
    const start = opts.offset ?? 0;
    return this.withRetry(
      'read',
      async (stub, deadline, fresh) => {
        const length = opts.length ? opts.length - received : 0;
        const req = {
          hash: ref.hash ?? '',
          name: ref.name ?? '',
          offset: start + received,
          length,
          consistency: opts.linearizable || fresh ? ReadConsistency.READ_CONSISTENCY_LINEARIZABLE : ReadConsistency.READ_CONSISTENCY_UNSPECIFIED,
        };
        const call = stub.download(req, { deadline });
        for await (const part of call as AsyncIterable<{ info?: FileInfo; data: Buffer }>) {
          if (part.info) info ??= part.info;
          if (part.data.length > 0) {
            await sink(part.data);
            received += part.data.length;
          }
        }
        if (!info) throw new LarderClientError('NO_INFO', 'the node sent data without the file info', null, false);
        return info;
      },
      this.policy,
      { admitted: 'download', freshOnNotFound: true },
    );
  }

  stat(ref: { hash?: string; name?: string }, linearizable = false): Promise<FileInfo> {
    const consistencyOf = (fresh: boolean): ReadConsistency =>
      linearizable || fresh ? ReadConsistency.READ_CONSISTENCY_LINEARIZABLE : ReadConsistency.READ_CONSISTENCY_UNSPECIFIED;
    return this.withRetry(
      'read',
      (stub, deadline, fresh) =>
        unary<FileInfo>((cb) =>
          stub.stat({ hash: ref.hash ?? '', name: ref.name ?? '', consistency: consistencyOf(fresh) }, new Metadata(), { deadline }, (e, r) => cb(e, r?.info)),
        ),
      this.policy,
      { freshOnNotFound: true },
    );
  }

  list(opts: { limit?: number; cursor?: string; nameFilter?: string } = {}): Promise<ListResponse> {
    return this.withRetry('read', (stub, deadline) =>
      unary<ListResponse>((cb) =>
        stub.list({ limit: opts.limit ?? 100, cursor: opts.cursor ?? '', nameFilter: opts.nameFilter ?? '' }, new Metadata(), { deadline }, cb),
      ),
    );
  }

  getStatus(hash: string): Promise<GetStatusResponse> {
    return this.withRetry('read', (stub, deadline) => unary<GetStatusResponse>((cb) => stub.getStatus({ hash }, new Metadata(), { deadline }, cb)));
  }

  /** Yields status changes of a hash until it reaches a final state or `signal` aborts. */
  async *watchStatus(hash: string, signal?: AbortSignal): AsyncGenerator<WatchStatusResponse> {
    const call = this.stub(this.pick('read')).watchStatus({ hash });
    signal?.addEventListener('abort', () => call.cancel());
    for await (const s of call as AsyncIterable<WatchStatusResponse>) yield s;
  }

  delete(hash: string, token: string): Promise<boolean> {
    return this.withRetry('write', (stub, deadline) =>
      unary<boolean>((cb) => stub.delete({ hash, token }, new Metadata(), { deadline }, (e, r) => cb(e, r?.deleted))),
    );
  }

  /** Removes a member from the cluster (needs the host token); false if it was not one. */
  removeMember(id: string, token: string): Promise<boolean> {
    return this.withRetry('write', (stub, deadline) =>
      unary<boolean>((cb) => stub.removeMember({ id, token }, new Metadata(), { deadline }, (e, r) => cb(e, r?.removed))),
    );
  }

  clusterInfo(endpoint?: string): Promise<ClusterInfoResponse> {
    if (endpoint) return unary<ClusterInfoResponse>((cb) => this.stub(endpoint).clusterInfo({}, new Metadata(), { deadline: Date.now() + 5000 }, cb));
    return this.withRetry('read', (stub, deadline) => unary<ClusterInfoResponse>((cb) => stub.clusterInfo({}, new Metadata(), { deadline }, cb)));
  }

  health(endpoint: string): Promise<HealthResponse> {
    return unary<HealthResponse>((cb) => this.stub(endpoint).health({}, new Metadata(), { deadline: Date.now() + 5000 }, cb));
  }

  /** Yields a node's metrics every `intervalMs` until `signal` aborts or the node goes away. */
  async *watchMetrics(endpoint: string, intervalMs = 1000, signal?: AbortSignal): AsyncGenerator<WatchMetricsResponse> {
    const call = this.stub(endpoint).watchMetrics({ intervalMs });
    signal?.addEventListener('abort', () => call.cancel());
    try {
      for await (const m of call as AsyncIterable<WatchMetricsResponse>) yield m;
    } catch (e) {
      if (!signal?.aborted) throw e;
    }
  }

  acquireLock(key: string, holder: string, ttlMs: number, waitMs = 0): Promise<AcquireLockResponse> {
    return this.withRetry('write', (stub, deadline) =>
      unary<AcquireLockResponse>((cb) => stub.acquireLock({ key, holder, ttlMs, waitMs }, new Metadata(), { deadline }, cb)),
    );
  }

  keepAliveLock(key: string, fencingToken: number): Promise<number> {
    return this.withRetry('write', (stub, deadline) =>
      unary<number>((cb) => stub.keepAliveLock({ key, fencingToken }, new Metadata(), { deadline }, (e, r) => cb(e, r?.expiresAtMs))),
    );
  }

  releaseLock(key: string, fencingToken: number): Promise<boolean> {
    return this.withRetry('write', (stub, deadline) =>
      unary<boolean>((cb) => stub.releaseLock({ key, fencingToken }, new Metadata(), { deadline }, (e, r) => cb(e, r?.released))),
    );
  }
}

const noop = (): void => {};

function unary<T>(start: (cb: (e: ServiceError | null, r: T | undefined) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((e, r) => (e ? reject(e) : r === undefined ? reject(new Error('empty response')) : resolve(r))));
}

async function uploadOnce(stub: Stub, deadline: Date, input: UploadInput, uploadId: string): Promise<UploadResponse> {
  let finished = false;
  let call!: ReturnType<Stub['upload']>;
  const done = new Promise<UploadResponse>((resolve, reject) => {
    call = stub.upload(new Metadata(), { deadline }, (e, r) => {
      finished = true;
      if (e) reject(e);
      else resolve(r!);
    });
  });
  // A node that refuses early (not leader, shed) ends the call while we are still writing:
  // mark the rejection handled now; it is returned (and awaited) below.
  call.on('error', () => {});
  done.catch(() => {});
  call.write({ header: { name: input.name, mime: input.mime, size: input.size ?? 0, noForward: false, uploadId }, data: Buffer.alloc(0), complete: false });
  let sent = 0;
  for await (const piece of input.open()) {
    if (finished) break;
    // A copy: grpc-js may serialize a buffered write later, and a source may reuse its buffer.
    const buf = Buffer.from(piece);
    // A call the node has already ended never drains: wait for whichever comes first.
    if (!call.write({ header: undefined, data: buf, complete: false })) await Promise.race([new Promise((r) => call.once('drain', r)), done.then(noop, noop)]);
    sent += buf.length;
    input.onProgress?.(sent);
  }
  if (!finished) {
    call.write({ header: undefined, data: Buffer.alloc(0), complete: true });
    call.end();
  }
  return done;
}

/** The node turned the attempt away for load (shed, or out of time): not an accept, for throttling. */
function refusedForLoad(e: ServiceError, outcome: ReturnType<typeof classify>): boolean {
  return (outcome.kind === 'retry' && outcome.shed) || e.code === status.DEADLINE_EXCEEDED || e.code === status.RESOURCE_EXHAUSTED;
}

function throttledError(endpoint: string): LarderClientError {
  return new LarderClientError(
    'THROTTLED',
    `gave up retrying at the deadline: ${endpoint} has been refusing most requests, so this client held its attempts back ` +
      '(client-side throttling; it eases as the node accepts again)',
    status.RESOURCE_EXHAUSTED,
    true,
  );
}

function toClientError(e: ServiceError, endpoint: string, gaveUp = false): LarderClientError {
  const shed = e.metadata?.get('x-larder-shed-reason')[0] !== undefined;
  const prefix = gaveUp ? 'gave up retrying at the deadline: ' : '';
  return new LarderClientError(String(e.code), `${prefix}${endpoint}: ${e.details || e.message}`, e.code, shed);
}
