import { describe, expect, it } from 'vitest';
import { seededRandom } from '../raft/rand.js';
import { shedProbability } from './bands.js';
import { defaultDownloadBands, defaultUploadBands, parseAdmissionConfig, type CpuBand } from './config.js';
import { ShedError } from './errors.js';
import { cpuBandPolicy, type RequestKind } from './policies.js';
import { harness, load } from './test/helpers.js';

// The seed's tables at every edge, plus 0, out-of-range readings (clamped) and NaN (no reading: no shed).
const uploadTable: [number, number][] = [
  [0, 0],
  [69.9, 0],
  [70, 0],
  [70.1, 0.05],
  [74.9, 0.05],
  [75, 0.1],
  [79.9, 0.1],
  [80, 0.25],
  [84.9, 0.25],
  [85, 0.25],
  [89.9, 0.25],
  [90, 0.25],
  [94.9, 0.25],
  [95, 0.25],
  [100, 0.25],
  [101, 0.25],
  [Infinity, 0.25],
  [-1, 0],
  [NaN, 0],
];
const downloadTable: [number, number][] = [
  [0, 0],
  [69.9, 0],
  [70, 0],
  [70.1, 0],
  [74.9, 0],
  [75, 0],
  [79.9, 0],
  [80, 0],
  [84.9, 0],
  [85, 0.05],
  [89.9, 0.05],
  [90, 0.1],
  [94.9, 0.1],
  [95, 0.25],
  [100, 0.25],
  [101, 0.25],
  [Infinity, 0.25],
  [-1, 0],
  [NaN, 0],
];
const tables: [RequestKind, readonly CpuBand[], [number, number][]][] = [
  ['upload', defaultUploadBands, uploadTable],
  ['download', defaultDownloadBands, downloadTable],
];

/**
 * Draws per row, and the tolerance on the measured shed fraction: 5 standard deviations of a
 * binomial proportion, sqrt(p(1-p)/n). At n = 20,000 that is ±0.0153 for p = 0.25, ±0.0106 for
 * 0.10, ±0.0077 for 0.05 (so neighbouring bands cannot be mistaken for each other), and exactly
 * 0 for p = 0 (random() < 0 never holds). The random is seeded, so the test is deterministic
 * anyway; 5 sigma keeps it passing (p < 1e-6 of failing) if the seed or generator changes.
 */
const draws = 20_000;
const tolerance = (p: number): number => 5 * Math.sqrt((p * (1 - p)) / draws);

describe('shedProbability', () => {
  for (const [kind, bands, table] of tables) {
    it.each(table)(`${kind} at %s %% CPU sheds exactly %s`, (cpu, p) => {
      expect(shedProbability(bands, cpu)).toBe(p);
    });
  }

  it('takes the first band that contains the reading; a gap sheds nothing', () => {
    const bands: CpuBand[] = [
      { from: 50, to: 60, fromInclusive: true, toInclusive: true, shed: 0.5 },
      { from: 55, to: 100, fromInclusive: true, toInclusive: true, shed: 0.9 },
    ];
    expect(shedProbability(bands, 58)).toBe(0.5);
    expect(shedProbability(bands, 61)).toBe(0.9);
    expect(shedProbability(bands, 10)).toBe(0);
  });
});

describe('cpu-band policy with a seeded random', () => {
  const config = parseAdmissionConfig({});
  for (const [kind, , table] of tables) {
    it.each(table)(`${kind} at %s %% CPU: measured fraction within 5 sigma of %s`, (cpu, p) => {
      const rng = seededRandom(1000 + cpu);
      let shed = 0;
      for (let i = 0; i < draws; i++) if (cpuBandPolicy(config.cpuBands, kind, load(cpu), rng.next)) shed++;
      expect(Math.abs(shed / draws - p)).toBeLessThanOrEqual(tolerance(p));
    });
  }
});

describe('cpu bands through the controller', () => {
  // Priority and memory off, so every shed here is the band's; no deadlines, instant tasks.
  const rows: [RequestKind, number, number][] = [
    ['upload', 70, 0],
    ['upload', 70.1, 0.05],
    ['upload', 75, 0.1],
    ['upload', 80, 0.25],
    ['download', 85, 0.05],
    ['download', 90, 0.1],
    ['download', 95, 0.25],
    ['download', 84.9, 0],
  ];
  it.each(rows)('%s at %s %% CPU sheds %s of 20,000 requests', async (kind, cpu, p) => {
    const { ctl, state } = harness({ priority: { enabled: false }, memory: { enabled: false } }, 7);
    state.sample = load(cpu);
    let shed = 0;
    for (let i = 0; i < draws; i++) {
      try {
        await ctl.run(kind, undefined, async () => i);
      } catch (e) {
        if (!(e instanceof ShedError) || e.reason !== 'cpu-band') throw e;
        shed++;
      }
    }
    expect(Math.abs(shed / draws - p)).toBeLessThanOrEqual(tolerance(p));
    const k = ctl.snapshot().kinds[kind];
    expect(k.shed['cpu-band']).toBe(shed);
    expect(k.completed).toBe(draws - shed);
  });
});
