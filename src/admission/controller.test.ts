import { status } from '@grpc/grpc-js';
import { describe, expect, it, vi } from 'vitest';
import { retryAfterMsKey, shedReasonKey } from '../client/retry.js';
import { ShedError } from './errors.js';
import { harness, load } from './test/helpers.js';
import { recorder } from './test/recorder.js';

vi.setConfig({ testTimeout: 5000 });

const shedOf = (p: Promise<unknown>): Promise<ShedError> =>
  p.then(
    () => {
      throw new Error('expected a shed');
    },
    (e: unknown) => {
      if (!(e instanceof ShedError)) throw e;
      return e;
    },
  );

describe('shed errors', () => {
  it('memory, priority and cpu-band: RESOURCE_EXHAUSTED with a retry hint; the task never runs', async () => {
    const { ctl, state } = harness();
    const task = vi.fn(async () => 'ran');
    state.sample = load(0, 95);
    const mem = await shedOf(ctl.run('download', undefined, task));
    expect(mem).toMatchObject({ reason: 'memory', kind: 'download', grpcCode: status.RESOURCE_EXHAUSTED, retryAfterMs: 200 });
    expect(mem.message).toMatch(/memory use 95 % is above 90 %.*retry in 200 ms/);
    expect(mem.metadata()).toEqual({ [retryAfterMsKey]: '200', [shedReasonKey]: 'memory' });
    state.sample = load(95, 0);
    expect(await shedOf(ctl.run('upload', undefined, task))).toMatchObject({ reason: 'priority', grpcCode: status.RESOURCE_EXHAUSTED });
    ctl.updateConfig({ cpuBands: { download: [{ from: 0, to: 100, fromInclusive: true, toInclusive: true, shed: 1 }] } });
    expect(await shedOf(ctl.run('download', undefined, task))).toMatchObject({ reason: 'cpu-band', grpcCode: status.RESOURCE_EXHAUSTED });
    expect(task).not.toHaveBeenCalled();
    const { download, upload } = ctl.snapshot().kinds;
    expect(download.shed).toEqual({ memory: 1, priority: 0, 'cpu-band': 1, deadline: 0, 'queue-full': 0 });
    expect(upload.shed.priority).toBe(1);
    expect(download.accepted + upload.accepted).toBe(0);
  });

  it('each policy switched off never sheds for its reason', async () => {
    const { ctl, state } = harness();
    state.sample = load(100, 100);
    for (const p of ['memory', 'priority', 'cpuBands'] as const) ctl.setEnabled(p, false);
    ctl.setEnabled('deadline', false);
    await expect(ctl.run('upload', 0, async () => 'ok')).resolves.toBe('ok'); // deadline already passed
    expect(ctl.snapshot().policies).toEqual({ priority: false, cpuBands: false, memory: false, deadline: false });
    ctl.setEnabled('memory', true);
    expect(await shedOf(ctl.run('upload', undefined, async () => 'ok'))).toMatchObject({ reason: 'memory' });
  });

  it('a bad runtime change throws and keeps the old config', () => {
    const { ctl } = harness();
    expect(() => ctl.updateConfig({ memory: { usedAbovePercent: 120 } })).toThrow(/memory\.usedAbovePercent/);
    expect(ctl.getConfig().memory.usedAbovePercent).toBe(90);
  });
});

describe('deadline shedding', () => {
  it('sheds at once (UNAVAILABLE) a request that cannot meet its deadline, and serves one that can', async () => {
    const { ctl, clock } = harness({ workers: 1, deadline: { margin: 1 } }); // download service time 5 ms (initial EWMA); the seed's rule, no margin
    const r = recorder(ctl, clock);
    void r.submit('d0', 'download'); // running since t = 0
    void r.submit('d1', 'download');
    void r.submit('d2', 'download');
    clock.t = 2;
    // expected wait = 3 (d0's remaining 5 - 2) + 2 queued * 5 = 13; + own service 5 = 18 ms needed
    expect(ctl.snapshot().kinds.download.expectedWaitMs).toBe(13);
    const late = await shedOf(r.submit('late', 'download', clock.t + 17.9));
    expect(late).toMatchObject({ reason: 'deadline', grpcCode: status.UNAVAILABLE, retryAfterMs: 213 });
    expect(late.message).toMatch(/deadline: 17 ms left but about 18 ms needed/);
    void r.submit('ok', 'download', clock.t + 18);
    for (const name of ['d0', 'd1', 'd2', 'ok']) await r.finish(name, 5 - (name === 'd0' ? 2 : 0));
    await expect(r.outcomes.get('ok')).resolves.toBe('ok');
    expect(clock.t).toBe(20); // finished exactly on its deadline
    expect(r.started).toEqual(['d0', 'd1', 'd2', 'ok']);
  });

  it('an upload waits behind everything queued: its expected wait counts downloads and uploads', () => {
    const { ctl, clock } = harness({ workers: 2 });
    const r = recorder(ctl, clock);
    void r.submit('u0', 'upload'); // 50 ms each
    void r.submit('d0', 'download');
    void r.submit('u1', 'upload');
    void r.submit('d1', 'download');
    // all busy; soonest to finish: d0 in 5 ms. Downloads: 5 + 5/2; uploads: 5 + (5 + 50)/2.
    expect(ctl.expectedWaitMs('download')).toBe(7.5);
    expect(ctl.expectedWaitMs('upload')).toBe(32.5);
  });

  it('a request whose deadline passes while queued is refused when its turn comes, without running', async () => {
    const { ctl, clock } = harness({ workers: 1 });
    const r = recorder(ctl, clock);
    void r.submit('d0', 'download');
    const expired = r.submit('expired', 'download', 50);
    const onTime = r.submit('onTime', 'download', 1000);
    await r.finish('d0', 50); // now = deadline: it cannot finish in 0 ms
    expect(await shedOf(expired)).toMatchObject({ reason: 'deadline', grpcCode: status.UNAVAILABLE });
    expect(r.started).toEqual(['d0', 'onTime']);
    await r.finish('onTime', 5);
    await expect(onTime).resolves.toBe('onTime');
    const d = ctl.snapshot().kinds.download;
    expect(d).toMatchObject({ accepted: 3, completed: 2, expiredInQueue: 1, queued: 0, running: 0 });
    expect(d.shed.deadline).toBe(1);
  });

  it('with the deadline policy off, a late queued request still runs', async () => {
    const { ctl, clock } = harness({ workers: 1, deadline: { enabled: false } });
    const r = recorder(ctl, clock);
    void r.submit('d0', 'download');
    void r.submit('late', 'download', 10);
    await r.finish('d0', 50);
    expect(r.started).toEqual(['d0', 'late']);
  });
});

describe('measurements', () => {
  it('service and queue-wait EWMAs follow the fake clock; the snapshot is plain JSON', async () => {
    const { ctl, clock, state } = harness({ workers: 1 });
    const r = recorder(ctl, clock);
    void r.submit('a', 'download');
    void r.submit('b', 'download');
    await r.finish('a', 15); // service 15: 5 + 0.2 * (15 - 5) = 7; b waited 15: 0 + 0.2 * 15 = 3
    const d = ctl.snapshot().kinds.download;
    expect(d.serviceMsEwma).toBeCloseTo(7, 10);
    expect(d.waitMsEwma).toBeCloseTo(3, 10);
    state.sample = { cpuPercent: 12, memUsedPercent: 34, processCpuPercent: 5, eventLoopPercent: 7, atMs: 99 };
    const snap = ctl.snapshot();
    expect(snap).toMatchObject({ workers: 1, busyWorkers: 1, load: state.sample });
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });
});
