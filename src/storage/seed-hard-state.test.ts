import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { append, conf, openQuiet, run } from './test/fixtures.js';

// A node rebuilt from its peers starts with the term it was re-admitted in and a vote for the
// leader that admitted it, durably, so it can never vote twice in a term its lost state voted in.

const root = mkdtempSync(path.join(os.tmpdir(), 'larder-seed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('seedHardState', () => {
  it('persists term and vote with an empty log, across a reopen', async () => {
    const dir = path.join(root, 'fresh');
    const s = await openQuiet(dir);
    await s.seedHardState(7, 'n1');
    await s.close();
    const again = await openQuiet(dir);
    expect(again.initialState().hardState).toEqual({ term: 7, vote: 'n1', commit: 0 });
    expect(again.lastIndex()).toBe(0);
    await again.close();
  });

  it('refuses a storage that already holds a log, and a term below 1', async () => {
    const used = await openQuiet(path.join(root, 'used'));
    await used.bootstrap(conf);
    await append(used, run(4, 2, 1));
    await expect(used.seedHardState(3, 'n1')).rejects.toMatchObject({ code: 'INVARIANT' });
    await used.close();
    const fresh = await openQuiet(path.join(root, 'zero'));
    await expect(fresh.seedHardState(0, 'n1')).rejects.toMatchObject({ code: 'INVARIANT' });
    await fresh.close();
  });
});
