import { seededRandom } from '../../raft/rand.js';
import type { AdmissionConfigInput } from '../config.js';
import { AdmissionController } from '../controller.js';
import type { LoadSample } from '../policies.js';

export function load(cpuPercent = 0, memUsedPercent = 0): LoadSample {
  return { cpuPercent, memUsedPercent, processCpuPercent: 0, eventLoopPercent: 0, atMs: 0 };
}

/** A promise the test settles by hand: a task that takes exactly as long as the test says. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (the controller's chains are a few microtasks deep). */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A controller on a fake clock, a fixed load reading and a seeded random. */
export function harness(config: AdmissionConfigInput = {}, seed = 1) {
  const clock = { t: 0 };
  const state = { sample: load() };
  const rng = seededRandom(seed);
  const ctl = new AdmissionController({ config, random: rng.next, now: () => clock.t, sample: () => state.sample });
  return { ctl, clock, state };
}
