import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoadSampler, readMachineLoad, type MachineLoad } from './sampler.js';
import { deferred } from './test/helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A sampler on a fake clock and a fake process-CPU counter, reading whatever the test puts in `machine`. */
function fakeSampler(intervalMs = 500) {
  const s = { t: 0, cpuUs: 0, loop: { active: 0, idle: 0 }, machine: { cpuPercent: 10, memUsedPercent: 20 } as MachineLoad, reads: 0 };
  const sampler = new LoadSampler({
    intervalMs,
    read: async () => {
      s.reads++;
      return { ...s.machine };
    },
    now: () => s.t,
    cpuUsage: () => ({ user: s.cpuUs, system: 0 }),
    cores: 2,
    eventLoop: () => ({ ...s.loop }),
  });
  return { sampler, s };
}

describe('LoadSampler', () => {
  it('reports NaN (nothing sheds) until the first reading, then the reading', async () => {
    const { sampler, s } = fakeSampler();
    expect(sampler.latest()).toEqual({ cpuPercent: NaN, memUsedPercent: NaN, processCpuPercent: NaN, eventLoopPercent: NaN, atMs: 0 });
    s.t = 1000;
    s.cpuUs = 500_000; // 500 ms of CPU in 1000 ms on 2 cores = 25 %
    s.loop = { active: 900, idle: 100 }; // busy 90 % of the second, though it got only half a core's CPU
    await sampler.tick();
    expect(sampler.latest()).toEqual({ cpuPercent: 10, memUsedPercent: 20, processCpuPercent: 25, eventLoopPercent: 90, atMs: 1000 });
  });

  it("reports the event loop's busy share per interval, not since start", async () => {
    const { sampler, s } = fakeSampler();
    s.loop = { active: 100, idle: 900 };
    await sampler.tick();
    expect(sampler.latest().eventLoopPercent).toBe(10);
    s.loop = { active: 600, idle: 1400 }; // this interval: 500 active of 1000
    await sampler.tick();
    expect(sampler.latest().eventLoopPercent).toBe(50);
    await sampler.tick(); // no time passed: the last figure stands
    expect(sampler.latest().eventLoopPercent).toBe(50);
  });

  it('an override forces fields on top of the readings until cleared', async () => {
    const { sampler } = fakeSampler();
    await sampler.tick();
    sampler.setOverride({ cpuPercent: 97 });
    expect(sampler.latest()).toMatchObject({ cpuPercent: 97, memUsedPercent: 20 });
    sampler.setOverride(null);
    expect(sampler.latest().cpuPercent).toBe(10);
  });

  it('samples at once on start, then every interval, and stops', async () => {
    vi.useFakeTimers();
    const { sampler, s } = fakeSampler(500);
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.reads).toBe(1);
    s.machine = { cpuPercent: 80, memUsedPercent: 50 };
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.reads).toBe(3);
    expect(sampler.latest().cpuPercent).toBe(80);
    sampler.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.reads).toBe(3);
  });

  it('does not overlap a slow reading, and keeps the last sample when a reading fails', async () => {
    const slow = deferred<MachineLoad>();
    let calls = 0;
    const sampler = new LoadSampler({
      read: () => (++calls === 1 ? slow.promise : Promise.reject(new Error('no /proc'))),
      cores: 1,
    });
    const first = sampler.tick();
    await sampler.tick(); // skipped: the first is still in flight
    expect(calls).toBe(1);
    slow.resolve({ cpuPercent: 42, memUsedPercent: 43 });
    await first;
    await sampler.tick();
    expect(sampler.errors).toBe(1);
    expect(sampler.latest()).toMatchObject({ cpuPercent: 42, memUsedPercent: 43 });
  });

  it('the real systeminformation reading is a pair of percentages', async () => {
    const { cpuPercent, memUsedPercent } = await readMachineLoad();
    for (const v of [cpuPercent, memUsedPercent]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(100);
    }
  });
});
