import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../raft/rand.js';
import { ShedError } from './errors.js';
import type { KindSnapshot } from './metrics.js';
import type { RequestKind } from './policies.js';
import { harness, settle } from './test/helpers.js';
import { recorder } from './test/recorder.js';

// Everything here runs on a fake clock: a hang is a bug, not a slow machine.
vi.setConfig({ testTimeout: 5000 });

/** Every accepted request is in exactly one state. */
function expectCountsAddUp(k: KindSnapshot): void {
  expect(k.accepted).toBe(k.queued + k.running + k.completed + k.failed + k.expiredInQueue);
}

describe('bounded queues', () => {
  it("sheds with queue-full when all workers are busy and the kind's queue is at capacity", async () => {
    const { ctl, clock } = harness({ workers: 1, downloadQueue: 2, uploadQueue: 0 });
    const r = recorder(ctl, clock);
    void r.submit('d0', 'download');
    void r.submit('d1', 'download');
    void r.submit('d2', 'download');
    const e = await r.submit('d3', 'download').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShedError);
    expect(e).toMatchObject({ reason: 'queue-full', kind: 'download', grpcCode: 8 });
    // wait = 5 (running d0's remaining) + 2 queued * 5 ms = 15 -> hint 200 + 15
    expect((e as ShedError).retryAfterMs).toBe(215);
    // the upload queue is separate; capacity 0 means "no waiting at all"
    await expect(r.submit('u0', 'upload')).rejects.toMatchObject({ reason: 'queue-full' });
    expect(ctl.snapshot().kinds.download).toMatchObject({ accepted: 3, queued: 2, running: 1 });
    await r.finish('d0');
    await r.finish('d1');
    await r.finish('d2');
    expect(r.started).toEqual(['d0', 'd1', 'd2']);
  });

  it('a queue of capacity 0 still runs requests on free workers', async () => {
    const { ctl, clock } = harness({ workers: 2, uploadQueue: 0 });
    const r = recorder(ctl, clock);
    void r.submit('u0', 'upload');
    void r.submit('u1', 'upload');
    await expect(r.submit('u2', 'upload')).rejects.toMatchObject({ reason: 'queue-full' });
    expect(r.running()).toEqual(['u0', 'u1']);
  });
});

describe('worker pool', () => {
  it('never runs more than `workers` tasks at once, finishes everything, and the counts add up throughout', async () => {
    const { ctl, clock } = harness({ workers: 3 });
    const r = recorder(ctl, clock);
    const rng = seededRandom(42);
    const kinds: RequestKind[] = ['download', 'upload'];
    for (let i = 0; i < 60; i++) void r.submit(`t${i}`, kinds[rng.int(2)] ?? 'download');
    for (let step = 0; r.running().length > 0; step++) {
      expect(r.running().length).toBeLessThanOrEqual(3);
      const running = r.running();
      await r.finish(running[rng.int(running.length)] ?? '', rng.int(20), step % 7 !== 0);
      for (const k of Object.values(ctl.snapshot().kinds)) expectCountsAddUp(k);
    }
    expect(r.maxActive()).toBe(3);
    expect(r.started).toHaveLength(60);
    const { download, upload } = ctl.snapshot().kinds;
    expect(download.completed + download.failed + upload.completed + upload.failed).toBe(60);
    expect(download.failed + upload.failed).toBeGreaterThan(0);
    expect(ctl.snapshot().busyWorkers).toBe(0);
  });

  it('serves waiting downloads before waiting uploads', async () => {
    const { ctl, clock } = harness({ workers: 1 });
    const r = recorder(ctl, clock);
    void r.submit('block', 'upload');
    for (const [name, kind] of [
      ['u1', 'upload'],
      ['u2', 'upload'],
      ['d1', 'download'],
      ['d2', 'download'],
    ] as const)
      void r.submit(name, kind);
    for (const name of ['block', 'd1', 'd2', 'u1', 'u2']) await r.finish(name);
    expect(r.started).toEqual(['block', 'd1', 'd2', 'u1', 'u2']);
  });

  it('does not starve uploads: while one waits, every `downloadsPerUpload` downloads one upload goes', async () => {
    const { ctl, clock } = harness({ workers: 1, downloadsPerUpload: 3 });
    const r = recorder(ctl, clock);
    void r.submit('block', 'download');
    void r.submit('u1', 'upload');
    void r.submit('u2', 'upload');
    for (let i = 1; i <= 8; i++) void r.submit(`d${i}`, 'download');
    // and downloads keep arriving: one more for every one that finishes
    let next = 9;
    while (r.running().length > 0) {
      const name = r.running()[0] ?? '';
      if (next <= 14) void r.submit(`d${next++}`, 'download');
      await r.finish(name);
    }
    expect(r.started.slice(0, 10)).toEqual(['block', 'd1', 'd2', 'd3', 'u1', 'd4', 'd5', 'd6', 'u2', 'd7']);
    expect(r.started).toHaveLength(17);
  });

  it('a failing task rejects its caller with its own error, counts as failed (not shed) and frees its worker', async () => {
    const { ctl, clock } = harness({ workers: 1 });
    const r = recorder(ctl, clock);
    const first = r.submit('a', 'download');
    void r.submit('b', 'download');
    await r.finish('a', 0, false);
    await expect(first).rejects.toThrow('a failed');
    await expect(first).rejects.not.toBeInstanceOf(ShedError);
    expect(r.running()).toEqual(['b']);
    await r.finish('b');
    await expect(
      ctl.run('upload', undefined, () => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    await settle();
    const { download, upload } = ctl.snapshot().kinds;
    expect(download).toMatchObject({ failed: 1, running: 0, completed: 1 });
    expect(Object.values(download.shed).every((n) => n === 0)).toBe(true);
    expect(upload).toMatchObject({ accepted: 1, failed: 1 });
  });

  it('more workers at runtime start waiting requests at once', async () => {
    const { ctl, clock } = harness({ workers: 1 });
    const r = recorder(ctl, clock);
    for (const n of ['a', 'b', 'c']) void r.submit(n, 'download');
    expect(r.running()).toEqual(['a']);
    ctl.updateConfig({ workers: 3 });
    expect(r.running()).toEqual(['a', 'b', 'c']);
  });
});
