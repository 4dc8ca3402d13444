import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { MemoryStorage } from '../raft/index.js';
import { DurableStorage, type DurableStorageOptions } from './durable-storage.js';
import { silentStorageLogger } from './logger.js';
import { storageComplianceTests, type StorageUnderTest } from './storage-compliance.js';

function memory(): StorageUnderTest {
  const s = new MemoryStorage();
  return {
    storage: s,
    append: async (entries) => s.append(entries),
    setHardState: async (hs) => s.setHardState(hs),
    bootstrap: async (cs) => s.bootstrap(cs),
    applySnapshot: async (snap) => s.applySnapshot(snap),
    createSnapshot: async (index, cs, data) => s.createSnapshot(index, cs, data),
    compact: async (index) => s.compact(index),
    reopen: null,
    close: async () => {},
  };
}

const root = mkdtempSync(path.join(os.tmpdir(), 'larder-compliance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

async function durable(dir: string, opts: DurableStorageOptions): Promise<StorageUnderTest> {
  const s = await DurableStorage.open(dir, { logger: silentStorageLogger, ...opts });
  return {
    storage: s,
    append: (entries) => s.save({ entries, hardState: null, snapshot: null, mustSync: true }),
    setHardState: (hardState) => s.save({ entries: [], hardState, snapshot: null, mustSync: true }),
    bootstrap: (cs) => s.bootstrap(cs),
    applySnapshot: (snap) => s.applySnapshot(snap),
    createSnapshot: (index, cs, data) => s.createSnapshot(index, cs, data),
    compact: (index) => s.compact(index),
    reopen: async () => {
      await s.close();
      return durable(dir, opts);
    },
    close: () => s.close(),
  };
}

storageComplianceTests('MemoryStorage', async () => memory());
storageComplianceTests('DurableStorage (defaults)', () => durable(path.join(root, `d${++dirCount}`), {}));
// No cache and tiny segments: every read goes to disk, and logs span many segments.
storageComplianceTests('DurableStorage (no cache, 4 KiB segments)', () =>
  durable(path.join(root, `d${++dirCount}`), { cacheBytesMax: 0, segmentBytesMax: 4096 }),
);
