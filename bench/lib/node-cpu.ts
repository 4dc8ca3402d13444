import { readFileSync } from 'node:fs';

/** CPU time (user + system, all threads) a process has used so far, in ms; NaN where /proc is missing. */
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks: USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** CPU a process uses while `work` runs, in ms. */
export async function cpuDuring<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = processCpuMs(pid);
  const value = await work();
  return { value, cpuMs: processCpuMs(pid) - before };
}

/**
 * The best download goodput a perfect shedder can keep, as a share of peak, when `offeredOverPeak`
 * times the peak is offered and refusing costs `refuseOverServe` of serving (r): the node spends
 * g x S serving and (offered - g) x R refusing out of the S x peak it has, so
 * g / peak = (1 - m r) / (1 - r). Refusals are not free: past m = 1/r nothing is served at all.
 */
export function goodputCeiling(offeredOverPeak: number, refuseOverServe: number): number {
  const r = refuseOverServe;
  return Math.max(0, Math.min(1, (1 - offeredOverPeak * r) / (1 - r)));
}

/**
 * The same ceiling when clients throttle (src/client/throttle.ts): they send about k requests per
 * request accepted, so a node keeping g of the peak receives k g, not m, and refuses (k - 1) g:
 * g = 1 / (1 + (k - 1) r). Below m = k g the throttle does not engage and the plain ceiling holds.
 */
export function throttledGoodputCeiling(offeredOverPeak: number, refuseOverServe: number, k: number): number {
  const g = Math.min(1, 1 / (1 + (k - 1) * refuseOverServe));
  return offeredOverPeak <= k * g ? goodputCeiling(offeredOverPeak, refuseOverServe) : g;
}
