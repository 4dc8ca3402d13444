import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Entry } from '../../raft/index.js';
import { DurableStorage, type DurableStorageOptions } from '../durable-storage.js';
import { silentStorageLogger, type StorageLogger } from '../logger.js';
import { makeEntry } from './payload.js';

export const conf = { voters: ['a', 'b', 'c'], learners: [] };

/** Entries [from, from + count) at `term`, self-verifying payloads of `bytes` each. */
export function run(from: number, count: number, term: number, bytes = 200): Entry[] {
  return Array.from({ length: count }, (_, i) => makeEntry(from + i, term, bytes));
}

export function append(s: DurableStorage, entries: Entry[], commit?: number): Promise<void> {
  const last = entries.at(-1)?.index ?? 0;
  return s.save({
    entries,
    hardState: { term: entries.at(-1)?.term ?? 1, vote: 'a', commit: commit ?? Math.max(0, last - 1) },
    snapshot: null,
    mustSync: true,
  });
}

/** Opens with warnings collected instead of printed. */
export async function openCollecting(dir: string, opts: DurableStorageOptions = {}): Promise<{ storage: DurableStorage; warnings: string[] }> {
  const warnings: string[] = [];
  const logger: StorageLogger = { warn: (m) => warnings.push(m) };
  return { storage: await DurableStorage.open(dir, { ...opts, logger }), warnings };
}

export function openQuiet(dir: string, opts: DurableStorageOptions = {}): Promise<DurableStorage> {
  return DurableStorage.open(dir, { logger: silentStorageLogger, ...opts });
}

export function segmentFiles(dir: string): string[] {
  const walDir = path.join(dir, 'wal');
  return readdirSync(walDir)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => path.join(walDir, n));
}

export function snapshotFiles(dir: string): string[] {
  const snapDir = path.join(dir, 'snap');
  return readdirSync(snapDir)
    .filter((n) => n.endsWith('.snap'))
    .sort()
    .map((n) => path.join(snapDir, n));
}

/** (index, term) pairs of the whole log. */
export function logPairs(s: DurableStorage): [number, number][] {
  if (s.lastIndex() < s.firstIndex()) return [];
  return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((e) => [e.index, e.term]);
}
