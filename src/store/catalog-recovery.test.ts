/**
 * The catalog is derived state: whatever happens to its file, opening rebuilds it from the latest
 * snapshot plus the log, identical to before (full exported state compared).
 */
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openStateMachine } from './recovery.js';
import { catalogPath, StateMachine, type ExportedState } from './state-machine.js';
import { rng, runWorkload, TestNode, withTempDir } from './test-support.js';

interface Run {
  readonly node: TestNode;
  readonly snapshot: Uint8Array;
  readonly snapshotIndex: number;
  readonly expected: ExportedState;
  /** Copies of the catalog file taken during the run, and the applied index each holds. */
  readonly copies: { readonly beforeSnapshot: { bytes: Buffer; index: number }; readonly afterSnapshot: { bytes: Buffer; index: number } };
}

async function recordRun(dataDir: string, options: { close: boolean }): Promise<Run> {
  const node = await TestNode.open(dataDir);
  const copy = async () => ({ bytes: await readFile(catalogPath(dataDir)), index: node.sm.appliedIndex });
  await runWorkload(node, 1, 6);
  const beforeSnapshot = await copy();
  await runWorkload(node, 2, 3);
  const snapshot = await node.sm.snapshot();
  const snapshotIndex = node.sm.appliedIndex;
  await runWorkload(node, 3, 3);
  const afterSnapshot = await copy();
  await runWorkload(node, 4, 3);
  const expected = node.sm.exportState();
  if (options.close) await node.sm.close(); // else: a crash, the file ends in appends
  return { node, snapshot, snapshotIndex, expected, copies: { beforeSnapshot, afterSnapshot } };
}

function recover(run: Run, dataDir: string, durable = { snapshotIndex: run.snapshotIndex, commitIndex: run.node.lastIndex }) {
  return openStateMachine({
    dataDir,
    fsync: false,
    durable,
    loadSnapshot: async () => (durable.snapshotIndex === 0 ? null : run.snapshot),
    entriesAfter: (after) => run.node.log.filter((e) => e.index > after),
  });
}

type Damage = (file: string) => Promise<void>;
const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
const r = rng(77);

/** Damage aims at live lines: in an append-only file, earlier versions of a document are superseded and harmless. */
function replaceLast(text: string, pattern: RegExp, replacement: string): string {
  const matches = [...text.matchAll(new RegExp(pattern.source, 'g'))];
  const last = matches[matches.length - 1];
  if (last?.index === undefined) throw new Error(`no match for ${pattern}`);
  return text.slice(0, last.index) + last[0].replace(pattern, replacement) + text.slice(last.index + last[0].length);
}

const damages: [string, Damage][] = [
  ['missing', (f) => rm(f)],
  ['replaced by random bytes', (f) => writeFile(f, r.bytes(4096))],
  ['truncated to nothing', (f) => truncate(f, 0)],
  ['truncated mid-line', async (f) => truncate(f, Math.floor((await readFile(f)).length * 0.6) | 1)],
  ['cut at a line boundary', async (f) => writeFile(f, `${(await lines(f)).slice(0, -3).join('\n')}\n`)],
  [
    'a line with bytes garbled',
    async (f) =>
      writeFile(
        f,
        (await readFile(f)).map((b, i) => (i >= 300 && i < 310 ? r.int(256) : b)),
      ),
  ],
  ['a live line deleted', async (f) => writeFile(f, `${(await lines(f)).filter((_l, i, all) => i !== all.length - 2).join('\n')}\n`)],
  ['a name altered, still valid JSON', async (f) => writeFile(f, replaceLast(await readFile(f, 'utf8'), /"names":\["upload-(\d)/, '"names":["uploaded-$1'))],
  // The lock the workload leaves held, so its line is live in both file forms.
  [
    'a held lock lease extended, still valid JSON',
    async (f) => writeFile(f, replaceLast(await readFile(f, 'utf8'), /("holder":"slow-client".*?"leaseExpiresAtMs":)(\d+)/, '$19$2')),
  ],
];

describe('catalog recovery', () => {
  for (const close of [true, false]) {
    const how = close ? 'after a clean close' : 'after a crash (file ends in appends)';
    it.each(damages)(`rebuilds a catalog file %s, ${how}, identical to before`, (_name, damage) =>
      withTempDir(async (dir) => {
        const run = await recordRun(dir, { close });
        const before = await readFile(catalogPath(dir), 'utf8');
        await damage(catalogPath(dir));
        expect(await readFile(catalogPath(dir), 'utf8').catch(() => '')).not.toBe(before);
        const { stateMachine, recovery } = await recover(run, dir);
        // Cutting appends at a line boundary may leave a consistent prefix: then the log replays the rest.
        const prefixMayStand = _name === 'cut at a line boundary' && !close;
        if (!prefixMayStand) expect(recovery.action).toBe('rebuilt');
        expect(stateMachine.exportState()).toEqual(run.expected);
        await stateMachine.close();
        const again = await recover(run, dir);
        expect(again.recovery).toEqual({ action: 'opened', replayed: 0 });
        await again.stateMachine.close();
      }),
    );
  }

  it('rebuilds from the log alone when there is no snapshot yet', () =>
    withTempDir(async (dir) => {
      const run = await recordRun(dir, { close: true });
      await rm(catalogPath(dir));
      const { stateMachine, recovery } = await recover(run, dir, { snapshotIndex: 0, commitIndex: run.node.lastIndex });
      expect(recovery).toEqual({ action: 'rebuilt', reason: 'the catalog file is missing' });
      expect(stateMachine.exportState()).toEqual(run.expected);
      await stateMachine.close();
    }));

  it('keeps an intact catalog and replays the committed entries it lacks', () =>
    withTempDir(async (dir) => {
      const run = await recordRun(dir, { close: true });
      await writeFile(catalogPath(dir), run.copies.afterSnapshot.bytes);
      const { stateMachine, recovery } = await recover(run, dir);
      expect(recovery).toEqual({ action: 'opened', replayed: run.node.lastIndex - run.copies.afterSnapshot.index });
      expect(stateMachine.exportState()).toEqual(run.expected);
      await stateMachine.close();
    }));

  it('rebuilds a catalog that is behind the snapshot (the entries in between are compacted away)', () =>
    withTempDir(async (dir) => {
      const run = await recordRun(dir, { close: true });
      await writeFile(catalogPath(dir), run.copies.beforeSnapshot.bytes);
      const { stateMachine, recovery } = await recover(run, dir);
      expect(recovery).toMatchObject({ action: 'rebuilt', reason: expect.stringMatching(/behind the snapshot/) });
      expect(stateMachine.exportState()).toEqual(run.expected);
      await stateMachine.close();
    }));

  it('rebuilds a catalog that is ahead of the durable commit index, to exactly that index', () =>
    withTempDir(async (dir) => {
      const run = await recordRun(dir, { close: true });
      const commitIndex = run.node.lastIndex - 7;
      const reference = await TestNode.open(`${dir}-reference`);
      for (const e of run.node.log.slice(0, commitIndex)) await reference.sm.apply(e.index, e.data);
      const { stateMachine, recovery } = await recover(run, dir, { snapshotIndex: run.snapshotIndex, commitIndex });
      expect(recovery).toMatchObject({ action: 'rebuilt', reason: expect.stringMatching(/ahead of the durable commit index/) });
      expect(stateMachine.exportState()).toEqual(reference.sm.exportState());
      expect(stateMachine.stateDigest).toBe(reference.sm.stateDigest);
      await Promise.all([stateMachine.close(), reference.sm.close()]);
      await rm(`${dir}-reference`, { recursive: true, force: true });
    }));

  it('compacts the datafile as appends pile up; the rewritten file reopens to the same state', () =>
    withTempDir(async (dir) => {
      const node = await TestNode.open(dir, { compactAfterLines: 40 });
      await runWorkload(node, 5, 12);
      const expected = node.sm.exportState();
      const fileLines = (await lines(catalogPath(dir))).length;
      // A full image (one line per document) plus at most the threshold and one entry's append.
      expect(fileLines).toBeLessThan(expected.docs.length + 40 + 10);
      expect(fileLines).toBeLessThan(node.log.length); // without rewrites: a meta line per entry
      await writeFile(`${dir}/.catalog.db.deadbeef.tmp`, 'a rewrite a crash cut short');
      const reopened = await StateMachine.open({ dataDir: dir, fsync: false });
      expect(reopened.exportState()).toEqual(expected);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      await reopened.close();
    }));

  it('refuses a state machine that cannot be trusted until recovery runs', () =>
    withTempDir(async (dir) => {
      await recordRun(dir, { close: true });
      await truncate(catalogPath(dir), 100);
      await expect(StateMachine.open({ dataDir: dir })).rejects.toMatchObject({
        code: 'CATALOG_CORRUPT',
        message: expect.stringMatching(/rebuild it from the latest snapshot and the log/),
      });
    }));
});
