import { describe, expect, it } from 'vitest';
import { estimateWaitMs, type WaitInputs } from './estimate.js';
import type { RequestKind } from './policies.js';

const serviceMs = (k: RequestKind): number => (k === 'upload' ? 50 : 5);
const inputs = (over: Partial<WaitInputs>): WaitInputs => ({ workers: 2, running: [], queued: { download: 0, upload: 0 }, serviceMs, now: 0, ...over });

describe('estimateWaitMs', () => {
  it('is 0 while a worker is free', () => {
    expect(estimateWaitMs('upload', inputs({ running: [{ kind: 'upload', startedAtMs: 0 }] }))).toBe(0);
  });

  it('first free worker + queued work ahead spread over the workers', () => {
    const running = [
      { kind: 'upload', startedAtMs: 0 },
      { kind: 'upload', startedAtMs: 30 },
    ] as const;
    const w = inputs({ running, queued: { download: 4, upload: 2 }, now: 40 });
    // soonest: the first upload, 50 - 40 = 10 ms left; downloads ahead 4 * 5 / 2; uploads add 2 * 50 / 2
    expect(estimateWaitMs('download', w)).toBe(20);
    expect(estimateWaitMs('upload', w)).toBe(70);
  });

  it('an overdue task counts as finishing now; after a cut in workers, the extra tasks must finish first', () => {
    const running = [
      { kind: 'download', startedAtMs: 0 },
      { kind: 'upload', startedAtMs: 0 },
      { kind: 'upload', startedAtMs: 20 },
    ] as const;
    expect(estimateWaitMs('download', inputs({ running, workers: 3, now: 30 }))).toBe(0); // download overdue
    expect(estimateWaitMs('download', inputs({ running, workers: 1, now: 30 }))).toBe(40); // 3rd soonest: 50 - 10
  });
});
