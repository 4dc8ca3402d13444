import { runSeed, type SimResult } from './run.js';
import type { SimParams } from './simulation.js';

/** Runs a range of seeds and returns the failing ones, each with its one-line replay command. */
export function failingSeeds(from: number, count: number, params: Partial<SimParams>): SimResult[] {
  const failures: SimResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed({ ...params, seed });
    if (!r.ok) failures.push(r);
  }
  return failures;
}

export function describeFailures(failures: readonly SimResult[]): string {
  return failures.map((f) => `seed ${f.seed}: ${f.violation?.kind}: ${f.violation?.detail}\n  config: ${f.config}\n  replay: ${f.replay}`).join('\n');
}
