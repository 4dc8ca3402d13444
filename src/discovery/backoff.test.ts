import { describe, expect, it } from 'vitest';
import { Backoff, fullJitterDelay } from './backoff.js';

const fixed = (r: number) => () => r;
const options = { baseMs: 100, capMs: 5000 };

describe('full-jitter backoff', () => {
  it('draws below base * 2^attempt, up to the cap', () => {
    const top = (attempt: number) => fullJitterDelay(attempt, { ...options, random: fixed(0.999999) });
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map(top)).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999, 4999]);
    expect(fullJitterDelay(3, { ...options, random: fixed(0) })).toBe(0);
    expect(fullJitterDelay(3, { ...options, random: fixed(0.5) })).toBe(400);
  });

  it('spreads retries out: a seeded source gives scattered, bounded delays', () => {
    let seed = 42;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const delays = Array.from({ length: 200 }, () => fullJitterDelay(5, { ...options, random: lcg }));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(3200);
    expect(new Set(delays).size).toBeGreaterThan(150);
  });

  it('rejects bad arguments', () => {
    expect(() => fullJitterDelay(-1, { ...options, random: fixed(0) })).toThrow(RangeError);
    expect(() => fullJitterDelay(1.5, { ...options, random: fixed(0) })).toThrow(RangeError);
    expect(() => fullJitterDelay(0, { ...options, random: fixed(1) })).toThrow(RangeError);
    expect(() => new Backoff({ baseMs: 0, capMs: 10, random: fixed(0) })).toThrow(RangeError);
    expect(() => new Backoff({ baseMs: 100, capMs: 50, random: fixed(0) })).toThrow(RangeError);
  });

  it('counts attempts until reset', () => {
    const b = new Backoff({ ...options, random: fixed(0.5) });
    expect([b.next(), b.next(), b.next()]).toEqual([50, 100, 200]);
    expect(b.attempt).toBe(3);
    b.reset();
    expect(b.next()).toBe(50);
  });
});
