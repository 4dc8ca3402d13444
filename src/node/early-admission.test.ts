import { Server, ServerCredentials, credentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { AdmissionController } from '../admission/index.js';
import { LarderServiceClient, LarderServiceService, type DownloadRequest, type DownloadResponse } from '../shared/proto/larder/v1/store.js';
import { admittedEarly, earlyAdmissionInterceptor } from './early-admission.js';

// The download admission decision taken when the headers arrive: refused calls never reach a
// handler, admitted ones reach it marked as admitted (so it does not decide a second time).

let server: Server | null = null;
afterEach(() => server?.forceShutdown());

async function start(controller: AdmissionController, seen: boolean[]): Promise<LarderServiceClient> {
  server = new Server({ interceptors: [earlyAdmissionInterceptor(controller)] });
  server.addService(LarderServiceService, {
    download: (call: ServerWritableStream<DownloadRequest, DownloadResponse>) => {
      seen.push(admittedEarly(call.metadata));
      call.end();
    },
  });
  const port = await new Promise<number>((res, rej) => server!.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return new LarderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

function download(client: LarderServiceClient, deadlineMs: number): Promise<{ code: number; reason?: string }> {
  return new Promise((resolve) => {
    const call = client.download({ hash: '', name: 'x', offset: 0, length: 0, consistency: 0 }, { deadline: Date.now() + deadlineMs });
    call.on('data', () => {});
    call.on('error', (e: { code: number; metadata?: { get(k: string): unknown[] } }) =>
      resolve({ code: e.code, reason: String(e.metadata?.get('x-larder-shed-reason')[0]) }),
    );
    call.on('end', () => resolve({ code: status.OK }));
  });
}

describe('early admission of downloads', () => {
  const load = { cpuPercent: 10, memUsedPercent: 10, processCpuPercent: 10, eventLoopPercent: 10, atMs: 0 };

  it('marks admitted calls for the handler, which then does not decide again', async () => {
    const controller = new AdmissionController({ random: () => 0.99, now: Date.now, sample: () => load });
    const seen: boolean[] = [];
    const client = await start(controller, seen);
    expect(await download(client, 5000)).toEqual({ code: status.OK });
    expect(seen).toEqual([true]);
    expect(controller.snapshot().kinds.download.accepted).toBe(0); // the handler here never ran it
    client.close();
  });

  it('refuses before any handler runs, with the reason and a count', async () => {
    const busy = { cpuPercent: 99, memUsedPercent: 95, processCpuPercent: 99, eventLoopPercent: 99, atMs: 0 };
    const controller = new AdmissionController({ random: () => 0, now: Date.now, sample: () => busy });
    const seen: boolean[] = [];
    const client = await start(controller, seen);
    expect(await download(client, 5000)).toEqual({ code: status.RESOURCE_EXHAUSTED, reason: 'memory' });
    expect(seen).toEqual([]);
    expect(controller.snapshot().kinds.download.shed.memory).toBe(1);
    client.close();
  });
});
