import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../raft/index.js';
import type { DurableStorage } from './durable-storage.js';
import { StorageError } from './errors.js';
import { matchingPrefix, type ModelLog, type ModelOp } from './test/crash-model.js';
import { conf, openCollecting, openQuiet, segmentFiles, snapshotFiles } from './test/fixtures.js';
import { makeEntry, makePayload, payloadProblem } from './test/payload.js';

/*
 * Random damage to a closed data dir: bytes flipped, zeroed or cut off anywhere in any segment or
 * snapshot file. Each case must either recover to exactly the log after some prefix of the
 * operations that built it (a torn tail: what followed the tear is gone, what preceded it is
 * intact) or refuse to start with WAL_CORRUPT / SNAPSHOT_CORRUPT naming the file and the way out.
 * Never anything else, and never data that differs from what was written.
 */

const long = process.env.LARDER_LONG === '1';
const cases = long ? 2000 : 150;
const seed = Number(process.env.LARDER_CORRUPTION_SEED ?? Date.now() % 1_000_000_000);
const rand = seededRandom(seed);
const root = mkdtempSync(path.join(os.tmpdir(), 'larder-corruption-'));
const golden = path.join(root, 'golden');
const opts = { segmentBytesMax: 8192 };
const ops: ModelOp[] = [];
const snapshotData = (index: number): Uint8Array => makePayload(index, 0, 300);

/** Builds the golden dir: appends, suffix replacements and two snapshots with compaction, recording every op. */
async function buildGolden(): Promise<void> {
  const s = await openQuiet(golden, opts);
  await s.bootstrap(conf);
  ops.push({ kind: 'append', first: 1, count: 3, term: 1, commit: 3 });
  let [next, term, commit] = [4, 1, 3];
  for (let k = 0; k < 120; k++) {
    if (k === 40 || k === 80) {
      await s.createSnapshot(commit, conf, snapshotData(commit));
      await s.compact(commit - 5);
      ops.push({ kind: 'compact', snapshotIndex: commit, compactIndex: commit - 5 });
      continue;
    }
    const replace = next - 1 > commit && rand.next() < 0.12;
    const first = replace ? commit + 1 + rand.int(next - 1 - commit) : next;
    term += replace ? 1 : 0;
    const count = 1 + rand.int(6);
    next = first + count;
    commit = Math.max(commit, next - 1 - rand.int(6));
    const entries = Array.from({ length: count }, (_, i) => makeEntry(first + i, term, 50 + rand.int(1500)));
    await s.save({ entries, hardState: { term, vote: 'a', commit }, snapshot: null, mustSync: true });
    ops.push({ kind: 'append', first, count, term, commit });
  }
  await s.close();
}

type Damage = 'flip' | 'zero' | 'truncate';

function damage(file: string, kind: Damage): string {
  const buf = readFileSync(file);
  const at = rand.int(buf.length);
  if (kind === 'truncate') {
    truncateSync(file, at);
    return `truncated ${path.basename(file)} to ${at} bytes`;
  }
  const length = kind === 'flip' ? 1 : 1 + rand.int(64);
  for (let i = at; i < Math.min(buf.length, at + length); i++) buf[i] = kind === 'flip' ? buf[i]! ^ (1 << rand.int(8)) : 0;
  writeFileSync(file, buf);
  return `${kind} ${length} byte(s) of ${path.basename(file)} at ${at}`;
}

/** Everything readable must be exactly what some prefix of the operations wrote. */
function checkRecovered(s: DurableStorage, what: string): void {
  const first = s.firstIndex();
  const entries = s.lastIndex() >= first ? s.entries(first, s.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
  for (const e of entries) expect(payloadProblem(e), what).toBeNull();
  const log: ModelLog = { start: first - 1, terms: entries.map((e) => e.term) };
  const k = matchingPrefix({ start: 0, terms: [] }, { ready: null, ops, acked: 0, problems: [] }, log);
  expect(typeof k, `${what}: ${String(k)}`).toBe('number');
  const snap = s.snapshot();
  if (snap.metadata.index > 0) expect(Array.from(snap.data), what).toEqual(Array.from(snapshotData(snap.metadata.index)));
}

beforeAll(buildGolden, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe(`corruption of segments and snapshot files (seed ${seed})`, () => {
  it(`${cases} random cases: each recovers a prefix intact or refuses with a clear error`, { timeout: long ? 1_800_000 : 120_000 }, async () => {
    const tally = { clean: 0, tornTail: 0, refusedWal: 0, refusedSnapshot: 0 };
    for (let c = 0; c < cases; c++) {
      const dir = path.join(root, `case-${c}`);
      cpSync(golden, dir, { recursive: true });
      const files = [...segmentFiles(dir), ...segmentFiles(dir).slice(-1), ...snapshotFiles(dir)]; // the last segment twice: tails matter most
      const what = `case ${c} (seed ${seed}): ${damage(files[rand.int(files.length)]!, (['flip', 'zero', 'truncate'] as const)[rand.int(3)]!)}`;
      const opened = await openCollecting(dir, opts).then(
        (ok) => ({ ok, error: null }),
        (error: unknown) => ({ ok: null, error }),
      );
      if (opened.error instanceof StorageError) {
        const e = opened.error;
        expect(['WAL_CORRUPT', 'SNAPSHOT_CORRUPT'], `${what}: ${e.message}`).toContain(e.code);
        expect(e.message, what).toContain(`larder start --data-dir ${dir} --rebuild-from-peers`);
        if (e.code === 'WAL_CORRUPT') expect(e.message, what).toMatch(/wal\/\d{8}\.seg at byte offset \d+/);
        tally[e.code === 'WAL_CORRUPT' ? 'refusedWal' : 'refusedSnapshot']++;
      } else if (opened.ok === null) {
        throw new Error(`${what}: failed with an untyped error: ${String((opened.error as Error).stack ?? opened.error)}`);
      } else {
        checkRecovered(opened.ok.storage, what);
        tally[opened.ok.warnings.length > 0 ? 'tornTail' : 'clean']++;
        await opened.ok.storage.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`corruption: ${cases} cases: ${JSON.stringify(tally)}`);
    expect(tally.refusedWal).toBeGreaterThan(0);
    expect(tally.tornTail).toBeGreaterThan(0);
  });
});
