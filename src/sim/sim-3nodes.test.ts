import { describe, expect, it } from 'vitest';
import { describeFailures, failingSeeds } from './seeds.js';

// 1,000 seeds of a 3-node cluster (the 5-node half is in sim-5nodes.test.ts, so the two halves
// run in parallel). Every seed checks election safety, log matching, leader completeness, state
// machine safety and commit safety after every step, liveness after healing, and the client
// history for linearizability.
describe('deterministic simulation, 3 nodes', () => {
  it.each([
    [0, 350],
    [350, 350],
  ])('mixed faults: seeds %i..+%i hold every property', (from, count) => {
    const failures = failingSeeds(from, count, { nodes: 3, profile: 'mixed' });
    expect(failures, describeFailures(failures)).toEqual([]);
  });

  it('leader churn: seeds 0..299 hold every property', () => {
    const failures = failingSeeds(0, 300, { nodes: 3, profile: 'churn' });
    expect(failures, describeFailures(failures)).toEqual([]);
  });
});
