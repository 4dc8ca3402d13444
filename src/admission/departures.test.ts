import { describe, expect, it } from 'vitest';
import { DepartureGaps } from './departures.js';
import { harness } from './test/helpers.js';
import { recorder } from './test/recorder.js';

describe('DepartureGaps', () => {
  it('averages gaps between completions only while requests wait, and only once it has enough', () => {
    const g = new DepartureGaps();
    g.backlogStarted(0);
    for (let t = 4; t <= 28; t += 4) g.departed(t, true); // 7 gaps of 4 ms
    expect(g.gapMs()).toBeNull();
    g.departed(32, true);
    expect(g.gapMs()).toBe(4);
    g.departed(40, true); // a gap of 8 ms
    expect(g.gapMs()).toBeCloseTo(4 + 0.05 * (8 - 4), 9);
    g.departed(44, false); // nothing waits any more: not a backlog gap
    g.departed(5000, true); // the first departure after an idle stretch (no backlogStarted): ignored
    expect(g.gapMs()).toBeCloseTo(4.2, 9);
  });
});

describe('expected wait from the observed drain rate', () => {
  it('is (requests ahead + 1) x the gap between completions once a backlog was measured', async () => {
    const { ctl, clock } = harness({ workers: 2, deadline: { initialServiceMs: { download: 100, upload: 100 } } });
    const r = recorder(ctl, clock);
    for (let i = 0; i < 14; i++) void r.submit(`d${i}`, 'download');
    // Two workers, each task holding one for 6 ms, finishing alternately: a departure every 3 ms.
    expect(ctl.expectedWaitMs('download')).toBe((12 * 100) / 2 + 100); // the per-worker formula, before any backlog was seen
    for (let i = 0; i < 10; i++) await r.finish(`d${i}`, 3);
    expect(r.running()).toHaveLength(2);
    // 2 queued ahead + 1 = 3 gaps of 3 ms, although the service-time average says ~100 ms.
    expect(ctl.expectedWaitMs('download')).toBeCloseTo(3 * 3, 6);
    expect(ctl.expectedWaitMs('upload')).toBeCloseTo(3 * 3, 6);
  });

  it('is 0 while a worker is free', () => {
    const { ctl } = harness({ workers: 2 });
    void recorder(ctl, { t: 0 }).submit('only', 'download');
    expect(ctl.expectedWaitMs('download')).toBe(0);
  });
});
