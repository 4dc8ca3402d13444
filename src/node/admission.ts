import { readFileSync } from 'node:fs';
import {
  AdmissionController,
  LoadSampler,
  parseAdmissionConfig,
  type AdmissionConfig,
  type AdmissionSnapshot,
  type KindSnapshot,
  type PolicyName,
} from '../admission/index.js';
import type { AdmissionStats, QueueStats } from '../shared/proto/larder/v1/store.js';
import { ConfigError, type NodeConfig } from './config.js';

const allPolicies: readonly PolicyName[] = ['memory', 'priority', 'cpuBands', 'deadline'];
const unboundedQueue = 1_000_000_000;

/** The admission settings a node runs with: the JSON file (if any), then the flags on top. */
export function admissionConfigOf(config: NodeConfig): AdmissionConfig {
  let fromFile: Record<string, unknown> = {};
  if (config.admissionConfig) {
    try {
      fromFile = JSON.parse(readFileSync(config.admissionConfig, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`--admission-config ${config.admissionConfig}: ${(e as Error).message}`);
    }
  }
  let base: AdmissionConfig;
  try {
    base = parseAdmissionConfig(fromFile);
  } catch (e) {
    throw new ConfigError(`--admission-config ${config.admissionConfig}: ${(e as Error).message}`);
  }
  const on = (p: PolicyName): boolean => config.shedding === 'on' && config.shedPolicies.includes(p);
  const policies = Object.fromEntries(allPolicies.map((p) => [p, { ...base[p], enabled: on(p) }]));
  // Shedding off is the naive server it is compared with: every request waits its turn, however
  // long the line (unless queue sizes are given explicitly).
  const unbounded = config.shedding === 'off' ? unboundedQueue : null;
  return parseAdmissionConfig({
    ...base,
    ...policies,
    workers: config.workers ?? base.workers,
    uploadQueue: config.uploadQueue ?? unbounded ?? base.uploadQueue,
    downloadQueue: config.downloadQueue ?? unbounded ?? base.downloadQueue,
  });
}

export interface NodeAdmission {
  readonly controller: AdmissionController;
  readonly sampler: LoadSampler;
}

export function startAdmission(config: AdmissionConfig): NodeAdmission {
  const sampler = new LoadSampler({ now: Date.now });
  sampler.start();
  const controller = new AdmissionController({ config, random: Math.random, now: Date.now, sample: () => sampler.latest() });
  return { controller, sampler };
}

/** A call's gRPC deadline in Date.now() ms, or undefined when the client set none. */
export function deadlineOf(call: { getDeadline(): Date | number }): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

const orMinusOne = (x: number): number => (Number.isFinite(x) ? x : -1);

function queueStats(k: KindSnapshot, capacity: number): QueueStats {
  return {
    queued: k.queued,
    running: k.running,
    capacity,
    accepted: k.accepted,
    completed: k.completed,
    failed: k.failed,
    shed: { memory: k.shed.memory, priority: k.shed.priority, cpuBand: k.shed['cpu-band'], deadline: k.shed.deadline, queueFull: k.shed['queue-full'] },
    serviceMsEwma: k.serviceMsEwma,
    waitMsEwma: k.waitMsEwma,
    expectedWaitMs: orMinusOne(k.expectedWaitMs),
  };
}

/** The wire form of a snapshot; load readings not taken yet are -1. */
export function admissionStats(s: AdmissionSnapshot, config: AdmissionConfig): AdmissionStats {
  const policyFlags: [string, boolean][] = [
    ['memory', s.policies.memory],
    ['priority', s.policies.priority],
    ['cpu-band', s.policies.cpuBands],
    ['deadline', s.policies.deadline],
  ];
  return {
    uploads: queueStats(s.kinds.upload, config.uploadQueue),
    downloads: queueStats(s.kinds.download, config.downloadQueue),
    workers: s.workers,
    busyWorkers: s.busyWorkers,
    load: {
      cpuPercent: orMinusOne(s.load.cpuPercent),
      memUsedPercent: orMinusOne(s.load.memUsedPercent),
      processCpuPercent: orMinusOne(s.load.processCpuPercent),
      eventLoopPercent: orMinusOne(s.load.eventLoopPercent),
      atMs: s.load.atMs,
    },
    policies: policyFlags.filter(([, on]) => on).map(([name]) => name),
  };
}
