import { z } from 'zod';

/**
 * Admission-control settings. The defaults are the load-shedding rules of the system Larder
 * descends from (docs: /work/shared/DESIGN.md section 4), so changing one is a deliberate choice.
 */

const percent = z.number().min(0).max(100);

/** One row of a CPU table: readings in the interval shed this fraction of requests. */
const cpuBandSchema = z
  .object({
    from: percent,
    to: percent,
    fromInclusive: z.boolean(),
    toInclusive: z.boolean(),
    shed: z.number().min(0).max(1),
  })
  .refine((b) => b.from <= b.to, { message: 'a band needs from <= to', path: ['to'] });

export type CpuBand = z.output<typeof cpuBandSchema>;

const band = (from: number, to: number, incl: '[]' | '[)' | '()', shed: number): CpuBand => ({
  from,
  to,
  fromInclusive: incl[0] === '[',
  toInclusive: incl[1] === ']',
  shed,
});

/** The seed's tables, exactly. Note (70,75) is open: 70 itself belongs to [0,70] and sheds nothing. */
export const defaultDownloadBands: readonly CpuBand[] = [band(95, 100, '[]', 0.25), band(90, 95, '[)', 0.1), band(85, 90, '[)', 0.05), band(0, 85, '[)', 0)];
export const defaultUploadBands: readonly CpuBand[] = [band(80, 100, '[]', 0.25), band(75, 80, '[)', 0.1), band(70, 75, '()', 0.05), band(0, 70, '[]', 0)];

const ms = z.number().min(0).finite();

export const admissionConfigSchema = z.object({
  /** Concurrent tasks; the worker pool in seed 000 ran three goroutines on one buffered channel. */
  workers: z.number().int().min(1).default(3),
  /** Bounded queue capacities (waiting requests, running ones not counted). 0 = never queue. */
  uploadQueue: z.number().int().min(0).default(64),
  /**
   * About half a second of downloads at the ~1,000/s a node serves here: with the usual 1 s
   * deadlines the deadline policy does most of the limiting, and what waits can still finish.
   */
  downloadQueue: z.number().int().min(0).default(512),
  /**
   * Downloads are served first; while uploads wait, at most this many downloads are started in a
   * row before one upload, so a steady stream of downloads cannot starve uploads forever.
   */
  downloadsPerUpload: z.number().int().min(1).default(8),
  /** Which CPU figure the priority and cpu-band policies read (see policyCpu in policies.ts). */
  cpuSignal: z.enum(['busier', 'machine']).default('busier'),
  /** Shed only uploads when CPU is strictly above the threshold. */
  priority: z.object({ enabled: z.boolean().default(true), cpuAbovePercent: percent.default(90) }).default({}),
  /** Probabilistic shedding by CPU band; the first band containing the reading wins, none = 0. */
  cpuBands: z
    .object({
      enabled: z.boolean().default(true),
      download: z.array(cpuBandSchema).default(() => defaultDownloadBands.map((b) => ({ ...b }))),
      upload: z.array(cpuBandSchema).default(() => defaultUploadBands.map((b) => ({ ...b }))),
    })
    .default({}),
  /** Shed everything when memory in use (100 * (1 - available / total)) is strictly above this. */
  memory: z.object({ enabled: z.boolean().default(true), usedAbovePercent: percent.default(90) }).default({}),
  /** Shed at once when the remaining deadline is shorter than expected queue wait + service time. */
  deadline: z
    .object({
      enabled: z.boolean().default(true),
      /**
       * Need = (expected wait + service) x margin. The estimates are averages and arrivals come in
       * bursts: a request that would just make it on average misses about half the time, and a
       * miss costs the same work as a success with none of the benefit.
       */
      margin: z.number().min(1).max(10).default(1.5),
      /** Weight of the newest service time in the moving average. */
      ewmaAlpha: z.number().gt(0).max(1).default(0.2),
      /** Service-time estimates before anything has been measured. */
      initialServiceMs: z.object({ upload: ms.default(50), download: ms.default(5) }).default({}),
    })
    .default({}),
  /** Retry hint = base + expected queue wait of that kind, capped at max (see retryAfterHint). */
  retryAfterMs: z
    .object({ base: ms.default(200), max: ms.default(5000) })
    .refine((r) => r.base <= r.max, { message: 'base must not exceed max', path: ['max'] })
    .default({}),
});

export type AdmissionConfig = z.output<typeof admissionConfigSchema>;
export type AdmissionConfigInput = z.input<typeof admissionConfigSchema>;

/** The policies that can be switched on and off at runtime. */
export type PolicyName = 'priority' | 'cpuBands' | 'memory' | 'deadline';

export class AdmissionConfigError extends Error {
  readonly code = 'BAD_ADMISSION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'AdmissionConfigError';
  }
}

/** Validates and fills in defaults; the error names each bad field, e.g. `cpuBands.upload.2.shed`. */
export function parseAdmissionConfig(input: unknown): AdmissionConfig {
  const r = admissionConfigSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new AdmissionConfigError(`invalid admission config: ${problems.join('; ')}`);
}

type Patch<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Patch<T[K]> : T[K] };
/** A runtime change: any subset of fields; sections merge field by field, band lists are replaced whole. */
export type AdmissionConfigPatch = Patch<AdmissionConfig>;

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function merge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (!isRecord(base) || !isRecord(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) out[key] = merge(base[key], value);
  return out;
}

/** Applies a patch and validates the result; throws AdmissionConfigError (base unchanged) if it is bad. */
export function patchAdmissionConfig(base: AdmissionConfig, patch: AdmissionConfigPatch): AdmissionConfig {
  return parseAdmissionConfig(merge(base, patch));
}
