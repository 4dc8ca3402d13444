import { shedProbability } from './bands.js';
import type { AdmissionConfig } from './config.js';

export type RequestKind = 'upload' | 'download';
export const requestKinds: readonly RequestKind[] = ['download', 'upload'];

export type ShedReason = 'memory' | 'priority' | 'cpu-band' | 'deadline' | 'queue-full';
export const shedReasons: readonly ShedReason[] = ['memory', 'priority', 'cpu-band', 'deadline', 'queue-full'];

/** One reading of the machine's load. NaN in a field means "not measured yet": nothing sheds on it. */
export interface LoadSample {
  /** Whole-machine CPU busy, 0..100: other processes compete for the same cores as we do. */
  cpuPercent: number;
  /** 100 * (1 - available / total): page cache is reclaimable, so it does not count as used. */
  memUsedPercent: number;
  /**
   * This process's CPU, 0..100 of one core: its JavaScript runs on one thread, so one busy core
   * is a saturated node however idle the others are (the seed measured a container's CPU).
   */
  processCpuPercent: number;
  /**
   * Share of the interval this process's event loop was busy, 0..100 (Node's event-loop
   * utilization). Unlike process CPU it counts time the loop had work but waited for a core: a
   * node sharing its core with another busy process is saturated at 50 % CPU, and this shows it.
   */
  eventLoopPercent: number;
  atMs: number;
}

export interface ShedDecision {
  reason: ShedReason;
  /** What was over which limit, for the error message and logs. */
  detail: string;
}

const pct = (x: number): string => `${Math.round(x * 10) / 10} %`;

/** Memory first: running out of it hurts every request, so it sheds both kinds. */
export function memoryPolicy(cfg: AdmissionConfig['memory'], sample: LoadSample): ShedDecision | null {
  if (!cfg.enabled || !(sample.memUsedPercent > cfg.usedAbovePercent)) return null;
  return { reason: 'memory', detail: `memory use ${pct(sample.memUsedPercent)} is above ${pct(cfg.usedAbovePercent)}` };
}

/** Uploads are the expensive, rare kind; above the threshold they make way for downloads. */
export function priorityPolicy(cfg: AdmissionConfig['priority'], kind: RequestKind, sample: LoadSample): ShedDecision | null {
  if (!cfg.enabled || kind !== 'upload' || !(sample.cpuPercent > cfg.cpuAbovePercent)) return null;
  return { reason: 'priority', detail: `CPU ${pct(sample.cpuPercent)} is above ${pct(cfg.cpuAbovePercent)}, where only downloads are served` };
}

/**
 * Sheds a fraction of requests by CPU band: `random()` (in [0,1)) < p. It draws only when p > 0,
 * so an idle node consumes no randomness and a seeded run stays reproducible step by step.
 */
export function cpuBandPolicy(cfg: AdmissionConfig['cpuBands'], kind: RequestKind, sample: LoadSample, random: () => number): ShedDecision | null {
  if (!cfg.enabled) return null;
  const p = shedProbability(cfg[kind], sample.cpuPercent);
  if (p <= 0 || !(random() < p)) return null;
  return { reason: 'cpu-band', detail: `CPU ${pct(sample.cpuPercent)} sheds ${pct(p * 100)} of ${kind}s` };
}

/**
 * The CPU figure the CPU policies read. 'busier': the highest of the machine's CPU, this
 * process's CPU and its event loop's utilization (a node whose event loop is saturated is
 * overloaded even on an otherwise idle machine, or when it gets only part of a contended core;
 * a node on a machine saturated by others is starved); 'machine': the machine's only.
 * Figures not measured yet (NaN) are left out; all NaN gives NaN, on which nothing sheds.
 */
export function policyCpu(signal: AdmissionConfig['cpuSignal'], sample: LoadSample): number {
  if (signal === 'machine') return sample.cpuPercent;
  const known = [sample.cpuPercent, sample.processCpuPercent, sample.eventLoopPercent].filter((x) => !Number.isNaN(x));
  return known.length === 0 ? Number.NaN : Math.max(...known);
}

/** The load policies in their fixed order (memory, priority, cpu-band); the first to shed wins. */
export function evaluateLoadPolicies(cfg: AdmissionConfig, kind: RequestKind, sample: LoadSample, random: () => number): ShedDecision | null {
  const cpu = { ...sample, cpuPercent: policyCpu(cfg.cpuSignal, sample) };
  return memoryPolicy(cfg.memory, sample) ?? priorityPolicy(cfg.priority, kind, cpu) ?? cpuBandPolicy(cfg.cpuBands, kind, cpu, random);
}

/**
 * Sheds a request that cannot finish in time: a late answer is as useless to the caller as none,
 * and costs a worker. `remainingMs` undefined, NaN or Infinity means no deadline: never shed.
 */
export function deadlinePolicy(
  cfg: AdmissionConfig['deadline'],
  remainingMs: number | undefined,
  expectedWaitMs: number,
  expectedServiceMs: number,
): ShedDecision | null {
  if (!cfg.enabled || remainingMs === undefined || Number.isNaN(remainingMs) || remainingMs === Infinity) return null;
  const needMs = (expectedWaitMs + expectedServiceMs) * cfg.margin;
  if (!(remainingMs < needMs)) return null;
  return {
    reason: 'deadline',
    detail: `${Math.max(0, Math.floor(remainingMs))} ms left but about ${Math.ceil(needMs)} ms needed (queue wait + service, with margin)`,
  };
}
