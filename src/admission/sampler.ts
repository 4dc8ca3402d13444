import os from 'node:os';
import si from 'systeminformation';
import type { LoadSample } from './policies.js';

/** What the machine-level source reports; both 0..100. */
export interface MachineLoad {
  cpuPercent: number;
  memUsedPercent: number;
}

export interface LoadSamplerOptions {
  intervalMs?: number;
  /** The machine-level reading; defaults to systeminformation. Injected by tests. */
  read?: () => Promise<MachineLoad>;
  /** Wall or monotonic ms, used for atMs and to turn process CPU time into a percentage. */
  now?: () => number;
  /** This process's cumulative CPU time in µs (process.cpuUsage). */
  cpuUsage?: () => NodeJS.CpuUsage;
  /** Cores process CPU is measured against; default 1 (see LoadSample.processCpuPercent). */
  cores?: number;
  /** Cumulative event-loop active and idle time in ms (performance.eventLoopUtilization). */
  eventLoop?: () => { active: number; idle: number };
}

/** Sums of every core's CPU times (ms) since boot, from os.cpus(): no process spawned, nothing blocks. */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times: t } of os.cpus()) {
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

let previousCpu = cpuTimes();

/**
 * Whole-machine CPU (busy share since the previous call) and memory (systeminformation).
 * CPU is computed from os.cpus() deltas rather than si.currentLoad(): on Linux currentLoad()
 * runs `cat /proc/stat | grep cpu` through execSync, blocking the event loop for milliseconds on
 * every sample, exactly when the node is busiest. Memory counts `available`, not `used`: `used`
 * includes page cache the kernel gives back on demand, and a file store fills the page cache.
 */
export async function readMachineLoad(): Promise<MachineLoad> {
  const mem = await si.mem();
  const now = cpuTimes();
  const total = now.total - previousCpu.total;
  const cpuPercent = total > 0 ? (100 * (now.busy - previousCpu.busy)) / total : Number.NaN;
  previousCpu = now;
  const memUsedPercent = mem.total > 0 ? 100 * (1 - mem.available / mem.total) : Number.NaN;
  return { cpuPercent, memUsedPercent };
}

type Override = Partial<Omit<LoadSample, 'atMs'>>;
const unknownLoad = (atMs: number): LoadSample => ({ cpuPercent: NaN, memUsedPercent: NaN, processCpuPercent: NaN, eventLoopPercent: NaN, atMs });

/**
 * Samples load off the hot path: a timer refreshes one reading, and admission just reads it
 * (latest()). Until the first reading (a few ms after start()) every field is NaN, on which no
 * policy sheds; the first CPU figure covers the time since this module was loaded.
 */
export class LoadSampler {
  private readonly intervalMs: number;
  private readonly read: () => Promise<MachineLoad>;
  private readonly now: () => number;
  private readonly cpuUsage: () => NodeJS.CpuUsage;
  private readonly cores: number;
  private last: LoadSample;
  private override: Override | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private prevCpu: { usage: NodeJS.CpuUsage; atMs: number };
  private readonly eventLoop: () => { active: number; idle: number };
  private prevLoop: { active: number; idle: number };
  /** Readings that failed (the previous one is kept); for logs and tests. */
  errors = 0;

  constructor(opts: LoadSamplerOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 500;
    this.read = opts.read ?? readMachineLoad;
    this.now = opts.now ?? (() => performance.now());
    this.cpuUsage = opts.cpuUsage ?? (() => process.cpuUsage());
    this.cores = Math.max(1, opts.cores ?? 1);
    this.last = unknownLoad(this.now());
    this.prevCpu = { usage: this.cpuUsage(), atMs: this.now() };
    this.eventLoop = opts.eventLoop ?? (() => performance.eventLoopUtilization());
    this.prevLoop = this.eventLoop();
  }

  /** The hot path: the last reading, with any override applied. */
  latest(): LoadSample {
    return this.override ? { ...this.last, ...this.override } : this.last;
  }

  /** Forces some readings (tests, demos of shedding on a live node); null returns to measuring. */
  setOverride(override: Override | null): void {
    this.override = override ? { ...override } : null;
  }

  /** Takes a reading now, then one every intervalMs; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One reading. A reading still in flight (slow machine) is not overlapped: this one is skipped. */
  async tick(): Promise<LoadSample> {
    if (this.inFlight) return this.latest();
    this.inFlight = true;
    try {
      const machine = await this.read();
      this.last = {
        cpuPercent: machine.cpuPercent,
        memUsedPercent: machine.memUsedPercent,
        processCpuPercent: this.processCpu(),
        eventLoopPercent: this.eventLoopBusy(),
        atMs: this.now(),
      };
    } catch {
      this.errors++;
    } finally {
      this.inFlight = false;
    }
    return this.latest();
  }

  /** CPU time of this process since the previous reading, as a share of `cores` cores (0..100). */
  private processCpu(): number {
    const atMs = this.now();
    const usage = this.cpuUsage();
    const prev = this.prevCpu;
    const busyMs = (usage.user - prev.usage.user + usage.system - prev.usage.system) / 1000;
    this.prevCpu = { usage, atMs };
    if (!(atMs > prev.atMs)) return this.last.processCpuPercent;
    const percent = (busyMs / (atMs - prev.atMs) / this.cores) * 100;
    return Math.min(100, Math.max(0, percent));
  }

  /** The event loop's busy share since the previous reading (0..100). */
  private eventLoopBusy(): number {
    const now = this.eventLoop();
    const active = now.active - this.prevLoop.active;
    const total = active + now.idle - this.prevLoop.idle;
    this.prevLoop = now;
    if (!(total > 0)) return this.last.eventLoopPercent;
    return Math.min(100, Math.max(0, (100 * active) / total));
  }
}
