import { randomBytes } from 'node:crypto';
import { AdaptiveThrottle, type ThrottleConfig } from '../client/throttle.js';
import { seededRandom } from '../raft/rand.js';
import { connect, downloadOnce, uploadOnce, type Connection, type Outcome, type RequestKind } from './requests.js';
import { emptyTally, type KindTally } from './stats.js';

export interface StoredFileRef {
  readonly hash: string;
  readonly size: number;
}

/** The seed's benchmark workload: mostly downloads of known files, a few uploads of new ones. */
export interface Workload {
  readonly endpoints: readonly string[];
  readonly files: readonly StoredFileRef[];
  /** Share of requests that are uploads (the seed: 0.005). */
  readonly uploadShare: number;
  readonly uploadBytes: number;
  /** Every request carries this gRPC deadline. */
  readonly deadlineMs: number;
  readonly seed: number;
  /**
   * Throttle as the client library does (client/throttle.ts): requests a node keeps refusing are
   * partly held back here and counted as shed with reason "client-throttle". Absent: every request is sent.
   */
  readonly clientThrottle?: ThrottleConfig;
}

/** The shed reason recorded for requests the generator's own throttle held back. */
export const clientThrottleReason = 'client-throttle';

export interface LoadResult {
  readonly seconds: number;
  readonly download: KindTally;
  readonly upload: KindTally;
  /** Hashes of acknowledged uploads: each must be readable afterwards. */
  readonly acked: string[];
}

/** Connections the generator opens to each node, as that many separate clients would. */
const connectionsPerEndpoint = 8;

/** Issues requests of a workload, round-robin over its endpoints, and tallies how they end. */
class Driver {
  readonly download = emptyTally();
  readonly upload = emptyTally();
  readonly acked: string[] = [];
  private readonly stubs: Connection[];
  private readonly random: () => number;
  private readonly throttles = new Map<string, AdaptiveThrottle>();
  private next = 0;
  private uploads = 0;

  constructor(private readonly w: Workload) {
    if (w.files.length === 0) throw new Error('the workload needs at least one stored file to download');
    this.stubs = w.endpoints.flatMap((ep) => Array.from({ length: connectionsPerEndpoint }, () => connect(ep)));
    this.random = seededRandom(w.seed).next;
  }

  /** Starts one request; resolves when it has ended (never rejects). */
  fire(): Promise<void> {
    const kind: RequestKind = this.random() < this.w.uploadShare ? 'upload' : 'download';
    const at = this.next++ % this.stubs.length;
    const stub = this.stubs[at]!;
    const tally = kind === 'upload' ? this.upload : this.download;
    tally.offered++;
    const throttle = this.throttleFor(kind, Math.floor(at / connectionsPerEndpoint));
    if (throttle && !throttle.allow()) {
      record(tally, { kind: 'shed', reason: clientThrottleReason, ms: 0 });
      return Promise.resolve();
    }
    const outcome = kind === 'upload' ? this.fireUpload(stub) : this.fireDownload(stub);
    return outcome.then((o) => {
      if (o.kind === 'ok' || o.kind === 'error') throttle?.accepted();
      record(tally, o);
    });
  }

  /** As the client library keeps them: one per node and kind of call. */
  private throttleFor(kind: RequestKind, endpoint: number): AdaptiveThrottle | null {
    const config = this.w.clientThrottle;
    if (!config) return null;
    const key = `${kind} ${endpoint}`;
    let t = this.throttles.get(key);
    if (!t) {
      t = new AdaptiveThrottle(config, () => performance.now(), seededRandom(this.w.seed + this.throttles.size + 1).next);
      this.throttles.set(key, t);
    }
    return t;
  }

  private fireDownload(stub: Connection): Promise<Outcome> {
    const f = this.w.files[Math.floor(this.random() * this.w.files.length)]!;
    return downloadOnce(stub, f.hash, f.size, this.w.deadlineMs);
  }

  private fireUpload(stub: Connection): Promise<Outcome> {
    const name = `load-${this.w.seed}-${this.uploads++}.bin`;
    return uploadOnce(stub, name, randomBytes(this.w.uploadBytes), this.w.deadlineMs, (h) => this.acked.push(h));
  }

  close(): void {
    for (const s of this.stubs) s.close();
  }
}

function record(t: KindTally, o: Outcome): void {
  if (o.kind === 'ok') {
    t.ok++;
    t.latencies.push(o.ms);
  } else if (o.kind === 'shed') {
    t.shed[o.reason] = (t.shed[o.reason] ?? 0) + 1;
    t.shedLatencies.push(o.ms);
  } else if (o.kind === 'timeout') t.timeout++;
  else {
    t.error++;
    if (t.errors.length < 5) t.errors.push(o.message);
  }
}

/**
 * Open loop: requests arrive as a Poisson process at `ratePerSec` whether or not earlier ones
 * were answered (as independent users do), so an overloaded node cannot slow the arrivals down.
 */
export async function runOpenLoop(w: Workload, ratePerSec: number, seconds: number): Promise<LoadResult> {
  const d = new Driver(w);
  const arrivals = seededRandom(w.seed ^ 0x5eed).next;
  const inflight = new Set<Promise<void>>();
  const startedAt = performance.now();
  const endAt = startedAt + seconds * 1000;
  let nextAt = startedAt;
  while (nextAt < endAt) {
    const now = performance.now();
    while (nextAt <= now && nextAt < endAt) {
      const p = d.fire().then(() => void inflight.delete(p));
      inflight.add(p);
      nextAt += (-Math.log(1 - arrivals()) / ratePerSec) * 1000;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, nextAt - performance.now()))));
  }
  await Promise.all(inflight);
  d.close();
  return { seconds, download: d.download, upload: d.upload, acked: d.acked };
}

/** Closed loop: `concurrency` users each send their next request when the last one ends. */
export async function runClosedLoop(w: Workload, concurrency: number, seconds: number): Promise<LoadResult> {
  const d = new Driver(w);
  const endAt = performance.now() + seconds * 1000;
  const user = async (): Promise<void> => {
    while (performance.now() < endAt) await d.fire();
  };
  await Promise.all(Array.from({ length: concurrency }, user));
  d.close();
  return { seconds, download: d.download, upload: d.upload, acked: d.acked };
}
