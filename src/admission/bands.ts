import type { CpuBand } from './config.js';

/** True if the reading lies in the band, honouring each end's inclusiveness. */
export function inBand(band: CpuBand, percent: number): boolean {
  const aboveFrom = band.fromInclusive ? percent >= band.from : percent > band.from;
  const belowTo = band.toInclusive ? percent <= band.to : percent < band.to;
  return aboveFrom && belowTo;
}

/**
 * The fraction of requests to shed at this CPU reading: the first band that contains it, or 0 if
 * none does. Readings outside 0..100 (a sampler's rounding, or >100 from per-core sums) are
 * clamped; NaN means "no reading", and with no reading we do not shed.
 */
export function shedProbability(bands: readonly CpuBand[], cpuPercent: number): number {
  if (Number.isNaN(cpuPercent)) return 0;
  const clamped = Math.min(100, Math.max(0, cpuPercent));
  return bands.find((b) => inBand(b, clamped))?.shed ?? 0;
}
