import { describe, expect, it } from 'vitest';
import { seededRandom } from '../raft/rand.js';
import { AdaptiveThrottle, defaultThrottle } from './throttle.js';

function throttle(seed = 1, config = defaultThrottle): { t: AdaptiveThrottle; clock: { ms: number } } {
  const clock = { ms: 0 };
  return { t: new AdaptiveThrottle(config, () => clock.ms, seededRandom(seed).next), clock };
}

describe('adaptive client-side throttling', () => {
  it('never rejects while the node accepts what it is sent', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 5000; i++) {
      clock.ms += 3;
      expect(t.allow()).toBe(true);
      t.accepted();
    }
    expect(t.rejectProbability()).toBe(0);
  });

  it('rejects with p = (requests - k accepts) / (requests + 1)', () => {
    const { t } = throttle();
    expect(t.rejectProbability()).toBe(0);
    t.allow();
    expect(t.rejectProbability()).toBeCloseTo(1 / 2);
    t.allow();
    t.allow();
    t.accepted(); // 3 requests, 1 accept: 3 - 2 = 1 over 4
    expect(t.rejectProbability()).toBeCloseTo(1 / 4);
    t.allow();
    t.allow(); // 5 requests, 1 accept: 3 / 6
    expect(t.rejectProbability()).toBeCloseTo(1 / 2);
  });

  it('rejects that share of requests, measured over many draws (seeded)', () => {
    const { t } = throttle(7);
    // One accept per 3 requests: p settles at (R - 2R/3) / (R + 1), about 1/3.
    const draws = 30_000;
    let rejected = 0;
    for (let i = 0; i < 2 * draws; i++) {
      const sent = t.allow();
      if (i % 3 === 0) t.accepted();
      if (i >= draws && !sent) rejected++;
    }
    const p = 1 / 3;
    const sigma = Math.sqrt((p * (1 - p)) / draws);
    expect(t.rejectProbability()).toBeCloseTo(p, 3);
    expect(Math.abs(rejected / draws - p)).toBeLessThan(5 * sigma);
  });

  it('against a node that accepts a third of the offered load, sends it about k times what it accepts', () => {
    const { t, clock } = throttle(3);
    const capacityPerSec = 100;
    let sent = 0;
    let accepted = 0;
    let credit = 0;
    // 300 requests/s offered for 30 s; the node accepts up to 100/s and refuses the rest.
    for (let i = 0; i < 9000; i++) {
      clock.ms = (i * 1000) / 300;
      credit = Math.min(capacityPerSec, credit + capacityPerSec / 300);
      if (!t.allow()) continue;
      sent++;
      if (credit >= 1) {
        credit -= 1;
        accepted++;
        t.accepted();
      }
    }
    expect(accepted / 30).toBeGreaterThan(95); // the node stays busy: throttling does not starve it
    expect(sent / accepted).toBeGreaterThan(1.8);
    expect(sent / accepted).toBeLessThan(2.2); // not 3: half of the refusals never reach the node
  });

  it('forgets refusals older than its window, so a recovered node gets full traffic back', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 100; i++) t.allow();
    expect(t.rejectProbability()).toBeGreaterThan(0.98);
    clock.ms += defaultThrottle.windowMs / 2;
    expect(t.rejectProbability()).toBeGreaterThan(0.98); // still inside the window
    clock.ms += defaultThrottle.windowMs / 2 + 1;
    expect(t.rejectProbability()).toBe(0);
  });

  it('slides: refusals leave the window step by step', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 10; i++) {
      clock.ms = i * 1000;
      for (let j = 0; j < 10; j++) t.allow(); // 10 per second, none accepted
    }
    clock.ms = 10_000; // the first second's 10 have left the window
    expect(t.rejectProbability()).toBeCloseTo(90 / 91);
    clock.ms = 15_000;
    expect(t.rejectProbability()).toBeCloseTo(40 / 41);
  });

  it('refuses a config that would throttle everything or nothing', () => {
    const make = (c: object) => () => new AdaptiveThrottle({ ...defaultThrottle, ...c }, () => 0, Math.random);
    expect(make({ k: 0.5 })).toThrow(/k must be at least 1/);
    expect(make({ windowMs: 0 })).toThrow(/windowMs/);
    expect(make({ buckets: 1.5 })).toThrow(/buckets/);
  });
});
