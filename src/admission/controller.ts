import {
  parseAdmissionConfig,
  patchAdmissionConfig,
  type AdmissionConfig,
  type AdmissionConfigInput,
  type AdmissionConfigPatch,
  type PolicyName,
} from './config.js';
import { retryAfterHint, withoutStack, ShedError } from './errors.js';
import { DepartureGaps } from './departures.js';
import { estimateWaitMs, type RunningTask } from './estimate.js';
import { KindEwma } from './ewma.js';
import { copyCounters, newCounters, type AdmissionSnapshot, type KindCounters, type KindSnapshot } from './metrics.js';
import { deadlinePolicy, evaluateLoadPolicies, type LoadSample, type RequestKind, type ShedDecision } from './policies.js';
import { TwoQueues } from './scheduler.js';

/** Everything non-deterministic comes in here, so tests drive the controller with a fake clock and a seed. */
export interface AdmissionDeps {
  config?: AdmissionConfigInput;
  /** Uniform in [0,1). */
  random: () => number;
  /** Milliseconds on the same clock as the deadlines passed to run(). */
  now: () => number;
  /** The latest load reading; called on every request, so it must be cheap (LoadSampler.latest). */
  sample: () => LoadSample;
}

interface Job {
  readonly kind: RequestKind;
  readonly deadlineAtMs: number | undefined;
  readonly enqueuedAtMs: number;
  readonly start: () => void;
  readonly reject: (e: ShedError) => void;
}

/**
 * Admission control: load policies at the door, then per-kind bounded queues served by a pool of
 * `workers` concurrent tasks. Plain promises only: no timers, clock or randomness of its own.
 */
export class AdmissionController {
  private config: AdmissionConfig;
  private readonly queues = new TwoQueues<Job>();
  private readonly running = new Set<RunningTask>();
  private readonly service: KindEwma;
  private readonly waited = new KindEwma({ download: 0, upload: 0 });
  private readonly departures = new DepartureGaps();
  private readonly counters: Record<RequestKind, KindCounters> = { download: newCounters(), upload: newCounters() };

  constructor(private readonly deps: AdmissionDeps) {
    this.config = parseAdmissionConfig(deps.config ?? {});
    this.service = new KindEwma(this.config.deadline.initialServiceMs);
  }

  /** Runs the task when admitted, or throws ShedError without running it. Task failures propagate. */
  async run<T>(kind: RequestKind, deadlineAtMs: number | undefined, task: () => Promise<T>): Promise<T> {
    const refusal = this.decide(kind, deadlineAtMs);
    if (refusal) throw refusal;
    return this.runAdmitted(kind, deadlineAtMs, task);
  }

  /**
   * The admission decision alone: a ShedError (counted) or null. A server may take it as early
   * as it likes (before a request is even decoded: a refusal must cost far less than service)
   * and then hand the admitted request to runAdmitted.
   */
  decide(kind: RequestKind, deadlineAtMs: number | undefined): ShedError | null {
    const decision = this.admit(kind, deadlineAtMs, this.deps.now());
    return decision ? this.shed(kind, decision) : null;
  }

  /** Queues a request that decide() admitted, and runs it when a worker is free. */
  async runAdmitted<T>(kind: RequestKind, deadlineAtMs: number | undefined, task: () => Promise<T>): Promise<T> {
    const now = this.deps.now();
    this.counters[kind].accepted++;
    return new Promise<T>((resolve, reject) => {
      const start = (): void => void this.execute(kind, task).then(resolve, reject);
      if (this.running.size >= this.config.workers && this.queuedTotal() === 0) this.departures.backlogStarted(now);
      this.queues.push({ kind, deadlineAtMs, enqueuedAtMs: now, start, reject });
      this.pump();
    });
  }

  /**
   * 0 while a worker is free; else (requests ahead + 1) x the observed gap between completions
   * (departures.ts), or, until a backlog has been observed, the per-worker formula of estimate.ts.
   */
  expectedWaitMs(kind: RequestKind, now: number = this.deps.now()): number {
    const queued = { download: this.queues.length('download'), upload: this.queues.length('upload') };
    if (this.running.size < this.config.workers) return 0;
    const gap = this.departures.gapMs();
    if (gap !== null) return (queued.download + (kind === 'upload' ? queued.upload : 0) + 1) * gap;
    return estimateWaitMs(kind, { workers: this.config.workers, running: this.running, queued, serviceMs: (k) => this.service.get(k), now });
  }

  snapshot(): AdmissionSnapshot {
    const now = this.deps.now();
    const kind = (k: RequestKind): KindSnapshot => ({
      ...copyCounters(this.counters[k]),
      queued: this.queues.length(k),
      running: [...this.running].filter((r) => r.kind === k).length,
      serviceMsEwma: this.service.get(k),
      expectedWaitMs: this.expectedWaitMs(k, now),
      waitMsEwma: this.waited.get(k),
    });
    const c = this.config;
    return {
      workers: c.workers,
      busyWorkers: this.running.size,
      load: { ...this.deps.sample() },
      policies: { priority: c.priority.enabled, cpuBands: c.cpuBands.enabled, memory: c.memory.enabled, deadline: c.deadline.enabled },
      kinds: { download: kind('download'), upload: kind('upload') },
    };
  }

  getConfig(): AdmissionConfig {
    return structuredClone(this.config);
  }

  /** Changes settings at runtime (validated; throws AdmissionConfigError and keeps the old ones if bad). */
  updateConfig(patch: AdmissionConfigPatch): void {
    this.config = patchAdmissionConfig(this.config, patch);
    this.pump(); // more workers may now be allowed
  }

  setEnabled(policy: PolicyName, enabled: boolean): void {
    this.updateConfig({ [policy]: { enabled } });
  }

  /** Load policies, then the deadline, then room in the queue: the first refusal wins. */
  private admit(kind: RequestKind, deadlineAtMs: number | undefined, now: number): ShedDecision | null {
    const load = evaluateLoadPolicies(this.config, kind, this.deps.sample(), this.deps.random);
    if (load) return load;
    const remaining = deadlineAtMs === undefined ? undefined : deadlineAtMs - now;
    const late = deadlinePolicy(this.config.deadline, remaining, this.expectedWaitMs(kind, now), this.service.get(kind));
    if (late) return late;
    const capacity = kind === 'upload' ? this.config.uploadQueue : this.config.downloadQueue;
    // A free worker means the queues are empty (pump keeps it so): the request starts at once.
    if (this.running.size >= this.config.workers && this.queues.length(kind) >= capacity) {
      return { reason: 'queue-full', detail: `all ${this.config.workers} workers busy and ${capacity} ${kind}s already waiting` };
    }
    return null;
  }

  private queuedTotal(): number {
    return this.queues.length('download') + this.queues.length('upload');
  }

  private shed(kind: RequestKind, decision: ShedDecision): ShedError {
    this.counters[kind].shed[decision.reason]++;
    const retryAfterMs = retryAfterHint(this.config.retryAfterMs, this.expectedWaitMs(kind));
    return withoutStack(() => new ShedError(decision.reason, kind, retryAfterMs, decision.detail));
  }

  /** Starts queued jobs while workers are free; a job whose deadline passed while queued is refused, not run. */
  private pump(): void {
    while (this.running.size < this.config.workers) {
      const job = this.queues.shift(this.config.downloadsPerUpload);
      if (!job) return;
      const now = this.deps.now();
      // Too late to finish (its deadline is nearer than its expected service time): refusing it
      // now saves the worker for a request that can still make it.
      if (this.config.deadline.enabled && job.deadlineAtMs !== undefined && job.deadlineAtMs - now < this.service.get(job.kind)) {
        this.counters[job.kind].expiredInQueue++;
        const left = Math.max(0, Math.floor(job.deadlineAtMs - now));
        job.reject(
          this.shed(job.kind, { reason: 'deadline', detail: `after ${now - job.enqueuedAtMs} ms in the queue only ${left} ms of its deadline remain` }),
        );
        continue;
      }
      this.waited.record(job.kind, now - job.enqueuedAtMs, this.config.deadline.ewmaAlpha);
      job.start();
    }
  }

  /** Occupies a worker for the task's whole run; its duration (failures too: they held a worker) feeds the average. */
  private async execute<T>(kind: RequestKind, task: () => Promise<T>): Promise<T> {
    const entry: RunningTask = { kind, startedAtMs: this.deps.now() };
    this.running.add(entry);
    try {
      const value = await task();
      this.counters[kind].completed++;
      return value;
    } catch (e) {
      this.counters[kind].failed++;
      throw e;
    } finally {
      this.running.delete(entry);
      this.departures.departed(this.deps.now(), this.queuedTotal() > 0);
      this.service.record(kind, this.deps.now() - entry.startedAtMs, this.config.deadline.ewmaAlpha);
      this.pump();
    }
  }
}
