import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../raft/index.js';
import { DurableStorage } from './durable-storage.js';
import { silentStorageLogger } from './logger.js';
import type { CrashChildConfig } from './test/crash-child.js';
import { bundleChild, lastIndexOf, recoverAndCheck, runChild } from './test/crash-harness.js';
import type { ModelLog } from './test/crash-model.js';

/*
 * Real processes, really killed: a child appends (group commits, suffix replacements, snapshots,
 * compaction) and prints what is acknowledged; SIGKILL lands at a random moment (20-300 ms after
 * it is ready) or, in two modes, at the child's own crash points: between segment deletions, or
 * halfway through writing a round that replaces a suffix. After each kill the storage is reopened
 * and checked (crash-harness.ts); the next child continues on the recovered directory.
 *
 * Default: 54 iterations. LARDER_LONG=1: 1,000. LARDER_CRASH_SEED=n replays the same operations;
 * LARDER_CRASH_MODES=random,mid-compaction runs only those modes.
 */

const long = process.env.LARDER_LONG === '1';
const seed0 = Number(process.env.LARDER_CRASH_SEED ?? Date.now() % 1_000_000_000);
const modes = process.env.LARDER_CRASH_MODES?.split(',');
const fullPlan: { mode: CrashChildConfig['mode']; iterations: number; segmentBytesMax: number }[] = [
  { mode: 'random', iterations: long ? 600 : 30, segmentBytesMax: 512 * 1024 },
  { mode: 'mid-compaction', iterations: long ? 200 : 12, segmentBytesMax: 64 * 1024 },
  { mode: 'mid-truncation', iterations: long ? 200 : 12, segmentBytesMax: 256 * 1024 },
];
const plan = fullPlan.filter((p) => modes === undefined || modes.includes(p.mode));

let root = '';
let bundle = '';

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'larder-crash-'));
  bundle = await bundleChild(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe(`WAL crash recovery under SIGKILL (seed ${seed0}${long ? ', LARDER_LONG' : ''})`, () => {
  plan.forEach(({ mode, iterations, segmentBytesMax }, planIndex) => {
    it(`${mode}: ${iterations} killed children, every acknowledged entry survives intact`, { timeout: long ? 3_600_000 : 120_000 }, async () => {
      const dir = path.join(root, mode);
      const boot = await DurableStorage.open(dir, { segmentBytesMax, logger: silentStorageLogger });
      await boot.bootstrap({ voters: ['a', 'b', 'c'], learners: [] });
      await boot.close();
      let base: ModelLog = { start: 0, terms: [1, 1, 1] };
      let baseCommit = 3;
      const rand = seededRandom(seed0 + planIndex);
      const tally = { acked: 0, selfKilled: 0, tornTails: 0, unackedPresent: 0 };
      const started = Date.now();
      for (let i = 0; i < iterations; i++) {
        const config: CrashChildConfig = { dir, seed: seed0 * 7 + planIndex * 100_000 + i, mode, segmentBytesMax };
        const outcome = await runChild(bundle, config, 20 + rand.int(281));
        const ready = outcome.transcript.ready;
        expect(ready, `iteration ${i} (child seed ${config.seed}): child never became ready; stderr: ${outcome.stderr}`).not.toBeNull();
        expect([ready!.first - 1, ready!.last], `iteration ${i}: the child saw a different log than the last check`).toEqual([base.start, lastIndexOf(base)]);
        const view = await recoverAndCheck(dir, base, baseCommit, outcome).catch((e: unknown) => {
          throw new Error(`iteration ${i} (child seed ${config.seed}, LARDER_CRASH_SEED=${seed0}): ${(e as Error).message}`);
        });
        tally.acked += outcome.transcript.acked;
        tally.selfKilled += outcome.selfKilled ? 1 : 0;
        tally.tornTails += view.tornTails;
        base = view.log;
        baseCommit = view.commit;
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `crash ${mode}: ${iterations} iterations in ${seconds} s; ${tally.acked} acknowledged operations; ${tally.selfKilled} self-kills at crash points; ${tally.tornTails} torn tails cut; log now ${base.start + 1}..${lastIndexOf(base)}`,
      );
      expect(tally.acked).toBeGreaterThan(0);
    });
  });
});
