import {
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  status,
  type ServerErrorResponse,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderServiceService, ReadConsistency, type DownloadRequest, type DownloadResponse, type FileInfo } from '../shared/proto/larder/v1/store.js';
import { LarderClient } from './larder-client.js';

// These test servers speak plain text; real nodes speak TLS (lanClientCredentials).
const insecure = credentials.createInsecure();
import { backoffMs, leaderAddressKey, retryAfterMsKey, shedReasonKey } from './retry.js';

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

const info: FileInfo = { hash: 'ab'.repeat(32), names: ['f'], size: 10, mime: 'text/plain', chunks: [], createdAtMs: 1, viaNode: 'n1' };

function err(code: status, details: string, md: Record<string, string> = {}): ServerErrorResponse {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata });
}

async function serve(impl: Partial<Record<keyof typeof LarderServiceService, unknown>>): Promise<string> {
  const server = new Server();
  server.addService(LarderServiceService, impl as UntypedServiceImplementation);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  servers.push(server);
  return `127.0.0.1:${port}`;
}

describe('LarderClient', () => {
  it('backs off with full jitter, capped', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000, deadlineMs: 1, attemptTimeoutMs: 1 };
    expect(backoffMs(0, policy, () => 0.999)).toBe(99);
    expect(backoffMs(3, policy, () => 0.5)).toBe(400);
    expect(backoffMs(30, policy, () => 0.999)).toBe(999);
    expect(backoffMs(5, policy, () => 0)).toBe(0);
  });

  it('retries an unavailable node and reads from the next one', async () => {
    const down = await serve({ stat: (_c: unknown, cb: (e: unknown) => void) => cb(err(status.UNAVAILABLE, 'restarting')) });
    const up = await serve({ stat: (_c: unknown, cb: (e: unknown, r: unknown) => void) => cb(null, { info }) });
    const client = new LarderClient({ credentials: insecure, endpoints: [down, up], retry: { baseDelayMs: 1 } });
    await expect(client.stat({ hash: info.hash })).resolves.toEqual(info);
    client.close();
  });

  it('follows a NOT_LEADER hint for writes', async () => {
    const leader = await serve({ delete: (_c: unknown, cb: (e: unknown, r: unknown) => void) => cb(null, { deleted: true }) });
    const follower = await serve({
      delete: (_c: unknown, cb: (e: unknown) => void) => cb(err(status.FAILED_PRECONDITION, 'not leader', { [leaderAddressKey]: leader })),
    });
    const client = new LarderClient({ credentials: insecure, endpoints: [follower], retry: { baseDelayMs: 1 } });
    await expect(client.delete(info.hash, 'token-123')).resolves.toBe(true);
    client.close();
  });

  it('does not retry errors a retry cannot fix', async () => {
    let calls = 0;
    const node = await serve({ stat: (_c: unknown, cb: (e: unknown) => void) => (calls++, cb(err(status.INVALID_ARGUMENT, 'not a content hash'))) });
    const client = new LarderClient({ credentials: insecure, endpoints: [node], retry: { baseDelayMs: 1 } });
    await expect(client.stat({ hash: info.hash })).rejects.toMatchObject({ grpcCode: status.INVALID_ARGUMENT });
    expect(calls).toBe(1);
    client.close();
  });

  it('asks once more, linearizably, before believing NOT_FOUND: a follower behind the leader does not hide a fresh upload', async () => {
    const seen: number[] = [];
    // A follower that has not applied the upload yet: only a linearizable read (ReadIndex) finds it.
    const lagging = await serve({
      stat: (c: { request: { consistency: number } }, cb: (e: unknown, r?: unknown) => void) => {
        seen.push(c.request.consistency);
        if (c.request.consistency === ReadConsistency.READ_CONSISTENCY_LINEARIZABLE) cb(null, { info });
        else cb(err(status.NOT_FOUND, 'no file with hash'));
      },
    });
    const client = new LarderClient({ credentials: insecure, endpoints: [lagging], retry: { baseDelayMs: 1 } });
    await expect(client.stat({ hash: info.hash })).resolves.toEqual(info);
    expect(seen).toEqual([ReadConsistency.READ_CONSISTENCY_UNSPECIFIED, ReadConsistency.READ_CONSISTENCY_LINEARIZABLE]);
    expect(client.stats()).toMatchObject({ attempts: 2, failed: 0 });
    seen.length = 0;
    const missing = await serve({
      stat: (c: { request: { consistency: number } }, cb: (e: unknown) => void) => (
        seen.push(c.request.consistency),
        cb(err(status.NOT_FOUND, 'no file with hash'))
      ),
    });
    const other = new LarderClient({ credentials: insecure, endpoints: [missing], retry: { baseDelayMs: 1 } });
    await expect(other.stat({ hash: info.hash })).rejects.toMatchObject({ grpcCode: status.NOT_FOUND });
    expect(seen).toHaveLength(2); // really missing: asked twice, then believed
    client.close();
    other.close();
  });

  it("honours a shed answer's retry-after hint and reports the shed", async () => {
    let calls = 0;
    const node = await serve({
      stat: (_c: unknown, cb: (e: unknown, r?: unknown) => void) =>
        ++calls === 1 ? cb(err(status.RESOURCE_EXHAUSTED, 'busy', { [retryAfterMsKey]: '60', [shedReasonKey]: 'cpu' })) : cb(null, { info }),
    });
    const shed: number[] = [];
    const client = new LarderClient({ credentials: insecure, endpoints: [node], retry: { baseDelayMs: 1 }, onShed: (_e, ms) => shed.push(ms) });
    const t0 = Date.now();
    await expect(client.stat({ hash: info.hash })).resolves.toEqual(info);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(shed).toEqual([60]);
    expect(client.stats()).toEqual({ attempts: 2, shed: 1, throttled: 0, failed: 0, failedShed: 0 });
    client.close();
  });

  it('reports a request shed until its deadline as shed, apart from real failures', async () => {
    const busy = await serve({
      stat: (_c: unknown, cb: (e: unknown) => void) => cb(err(status.RESOURCE_EXHAUSTED, 'busy', { [retryAfterMsKey]: '50', [shedReasonKey]: 'cpu-band' })),
    });
    const broken = await serve({ stat: (_c: unknown, cb: (e: unknown) => void) => cb(err(status.INVALID_ARGUMENT, 'not a content hash')) });
    const client = new LarderClient({ credentials: insecure, endpoints: [busy], retry: { baseDelayMs: 1, deadlineMs: 1500 } });
    await expect(client.stat({ hash: info.hash })).rejects.toMatchObject({ shed: true, grpcCode: status.RESOURCE_EXHAUSTED });
    const afterShed = client.stats();
    expect(afterShed.shed).toBeGreaterThanOrEqual(2);
    expect(afterShed).toMatchObject({ failed: 1, failedShed: 1 });
    const other = new LarderClient({ credentials: insecure, endpoints: [broken], retry: { baseDelayMs: 1 } });
    await expect(other.stat({ hash: info.hash })).rejects.toMatchObject({ shed: false });
    expect(other.stats()).toEqual({ attempts: 1, shed: 0, throttled: 0, failed: 1, failedShed: 0 });
    client.close();
    other.close();
  });

  it('never cuts an upload attempt short (a retry would restart it from the first byte), and gives a big file time to travel', async () => {
    const deadlines: number[] = [];
    const slow = await serve({
      upload: (c: { getDeadline(): Date | number; on(e: string, f: () => void): void; resume(): void }, cb: (e: unknown, r?: unknown) => void) => {
        const d = c.getDeadline();
        deadlines.push((d instanceof Date ? d.getTime() : d) - Date.now());
        c.on('end', () => setTimeout(() => cb(null, { hash: info.hash, status: 3, message: '', size: 10, chunks: 1 }), 400));
        c.resume();
      },
    });
    const client = new LarderClient({ credentials: insecure, endpoints: [slow], retry: { baseDelayMs: 1, attemptTimeoutMs: 100, deadlineMs: 5000 } });
    const res = await client.upload({
      name: 'f',
      mime: 'text/plain',
      size: 10,
      open: async function* () {
        yield new Uint8Array(10);
      },
    });
    expect(res.hash).toBe(info.hash);
    expect(deadlines).toHaveLength(1);
    expect(deadlines[0]).toBeGreaterThan(4000);
    // 100 MiB at the 2 MiB/s floor: 50 s, more than the 5 s deadline the caller gave.
    await client
      .upload({
        name: 'big',
        mime: 'text/plain',
        size: 100 * 1024 * 1024,
        open: async function* () {
          yield new Uint8Array(10);
        },
      })
      .catch(() => {});
    expect(deadlines[1]).toBeGreaterThan(45_000);
    client.close();
  });

  it('gives each attempt its own deadline, so a slow node is left for the next', async () => {
    const deadlines: number[] = [];
    const slow = await serve({
      stat: (c: { getDeadline(): Date | number }, cb: (e: unknown, r?: unknown) => void) => {
        const d = c.getDeadline();
        deadlines.push((d instanceof Date ? d.getTime() : d) - Date.now());
        setTimeout(() => cb(null, { info }), 1000);
      },
    });
    const fast = await serve({ stat: (_c: unknown, cb: (e: unknown, r: unknown) => void) => cb(null, { info }) });
    const client = new LarderClient({ credentials: insecure, endpoints: [slow, fast], retry: { baseDelayMs: 1, attemptTimeoutMs: 200, deadlineMs: 5000 } });
    const t0 = Date.now();
    await expect(client.stat({ hash: info.hash })).resolves.toEqual(info);
    expect(Date.now() - t0).toBeLessThan(900);
    expect(deadlines[0]).toBeLessThanOrEqual(200);
    client.close();
  });

  it('gives up at the deadline with the last error', async () => {
    const node = await serve({ stat: (_c: unknown, cb: (e: unknown) => void) => cb(err(status.UNAVAILABLE, 'down for good')) });
    const client = new LarderClient({ credentials: insecure, endpoints: [node], retry: { baseDelayMs: 20, deadlineMs: 1000 } });
    await expect(client.stat({ hash: info.hash })).rejects.toThrow(/gave up retrying at the deadline: .*(down for good|Deadline exceeded)/);
    client.close();
  });

  it('holds back downloads to a node that refuses them all (client-side throttling); with throttling off, sends every attempt', async () => {
    let calls = 0;
    const refusing = await serve({
      download: (call: ServerWritableStream<DownloadRequest, DownloadResponse>) => {
        calls++;
        call.emit('error', err(status.RESOURCE_EXHAUSTED, 'too busy', { [retryAfterMsKey]: '0', [shedReasonKey]: 'deadline' }));
      },
    });
    const retry = { baseDelayMs: 1, maxDelayMs: 10, deadlineMs: 1000 };
    const throttled = new LarderClient({ credentials: insecure, endpoints: [refusing], retry });
    await expect(throttled.download({ hash: info.hash }, () => {})).rejects.toMatchObject({
      shed: true,
      grpcCode: status.RESOURCE_EXHAUSTED,
      message: /too busy/,
    });
    const held = throttled.stats();
    // What was sent reached the node (but for a last attempt the deadline may cut before it
    // arrives); the rest never left.
    expect(calls).toBeGreaterThanOrEqual(held.attempts - 1);
    expect(calls).toBeLessThanOrEqual(held.attempts);
    expect(held.throttled).toBeGreaterThan(held.attempts); // refusing everything, p tends to 1
    calls = 0;
    const plain = new LarderClient({ credentials: insecure, endpoints: [refusing], retry, throttle: false });
    await expect(plain.download({ hash: info.hash }, () => {})).rejects.toMatchObject({ shed: true });
    expect(plain.stats().throttled).toBe(0);
    expect(calls).toBeGreaterThanOrEqual(plain.stats().attempts - 1);
    expect(calls).toBeGreaterThan(held.attempts);
    throttled.close();
    plain.close();
  });

  it('never holds back requests to a node that serves them', async () => {
    const node = await serve({
      download: (call: ServerWritableStream<DownloadRequest, DownloadResponse>) => {
        call.write({ info, data: Buffer.from('0123456789') });
        call.end();
      },
    });
    const client = new LarderClient({ credentials: insecure, endpoints: [node] });
    for (let i = 0; i < 50; i++) await client.download({ hash: info.hash }, () => {});
    expect(client.stats()).toMatchObject({ attempts: 50, throttled: 0, failed: 0 });
    client.close();
  });

  it('resumes an interrupted download at the byte where it stopped', async () => {
    const content = Buffer.from('0123456789');
    const requests: DownloadRequest[] = [];
    const flaky = (call: ServerWritableStream<DownloadRequest, DownloadResponse>): void => {
      requests.push(call.request);
      const from = call.request.offset;
      call.write({ info, data: Buffer.alloc(0) });
      if (requests.length === 1) {
        call.write({ info: undefined, data: content.subarray(from, from + 4) });
        setTimeout(() => call.emit('error', err(status.UNAVAILABLE, 'node died')), 20);
        return;
      }
      call.write({ info: undefined, data: content.subarray(from) });
      call.end();
    };
    const node = await serve({ download: flaky });
    const client = new LarderClient({ credentials: insecure, endpoints: [node], retry: { baseDelayMs: 1 } });
    const parts: Buffer[] = [];
    await client.download({ hash: info.hash }, (d) => void parts.push(Buffer.from(d)));
    expect(Buffer.concat(parts).toString()).toBe('0123456789');
    expect(requests.map((r) => r.offset)).toEqual([0, 4]);
    client.close();
  });
});
