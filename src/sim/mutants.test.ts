import { describe, expect, it } from 'vitest';
import { runSeed, type SimResult } from './run.js';
import type { VariantName } from './mutants.js';
import type { SimParams } from './simulation.js';

const safetyKinds = ['election-safety', 'log-matching', 'leader-completeness', 'state-machine-safety', 'commit-safety', 'linearizability', 'divergence'];

/** The first seed on which the variant breaks a safety property (liveness failures are skipped). */
function firstSafetyViolation(variant: VariantName, params: Partial<SimParams>, maxSeeds: number): SimResult | null {
  for (let seed = 0; seed < maxSeeds; seed++) {
    const r = runSeed({ ...params, seed, variant });
    if (r.violation && safetyKinds.includes(r.violation.kind)) return r;
  }
  return null;
}

// The checkers must be able to fail: each deliberately broken core is caught, and the report
// carries a seed whose replay reproduces the very same violation.
describe('the simulator catches broken cores', () => {
  it('a core that grants two votes in one term breaks election safety', () => {
    const found = firstSafetyViolation('double-vote', { nodes: 3, profile: 'mixed' }, 200);
    expect(found, 'no violation found in 200 seeds').not.toBeNull();
    expect(found!.violation!.kind).toBe('election-safety');
    expect(found!.replay).toMatch(/^npm run sim -- --seed \d+ --nodes 3 --variant double-vote --trace$/);
    expect(runSeed({ seed: found!.seed, nodes: 3, variant: 'double-vote' }).violation).toEqual(found!.violation);
    // The same seed with the correct core is clean: the violation is the mutant's, not the harness's.
    expect(runSeed({ seed: found!.seed, nodes: 3 }).violation).toBeNull();
  });

  it('a core that commits previous-term entries by counting replicas (Figure 8) loses committed entries', () => {
    const found = firstSafetyViolation('commit-previous-term', { nodes: 5, profile: 'churn' }, 600);
    expect(found, 'no violation found in 600 seeds').not.toBeNull();
    expect(['leader-completeness', 'commit-safety', 'state-machine-safety', 'linearizability']).toContain(found!.violation!.kind);
    expect(found!.replay).toContain('--variant commit-previous-term --profile churn');
    const replay = runSeed({ seed: found!.seed, nodes: 5, variant: 'commit-previous-term', profile: 'churn' });
    expect(replay.violation).toEqual(found!.violation);
    expect(runSeed({ seed: found!.seed, nodes: 5, profile: 'churn' }).violation).toBeNull();
  });
});

describe('a run is a pure function of its seed', () => {
  it('replays identically', () => {
    const a = runSeed({ seed: 7, nodes: 5, trace: true });
    const b = runSeed({ seed: 7, nodes: 5, trace: true });
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
    expect(a.trace.length).toBeGreaterThan(100);
  });

  it('different seeds explore different runs', () => {
    expect(runSeed({ seed: 1, nodes: 3 }).stats).not.toEqual(runSeed({ seed: 2, nodes: 3 }).stats);
  });
});
