/**
 * A crash mid-apply leaves a prefix of the entry's catalog writes. Re-applying the entry on that
 * state must give exactly the state of a clean apply: checked for every entry of a workload and
 * every cut point within it.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { applyDecoded, clockAfter, decodeEntry } from './apply.js';
import { Catalog } from './catalog.js';
import { ChunkStore } from './chunk-store.js';
import { runWorkload, TestNode, withTempDir } from './test-support.js';
import type { LogEntryData } from './state-machine.js';
import type { ApplyResult } from './apply-context.js';
import { StateDigest } from './state-digest.js';

class SimulatedCrash extends Error {}

/** The catalog, except that the write after the first `writes` ones "crashes" the process. */
function crashingAfter(catalog: Catalog, writes: number): Catalog {
  let left = writes;
  return new Proxy(catalog, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'put' || prop === 'remove' || prop === 'commitMeta') {
        return (...args: unknown[]) => {
          if (left-- <= 0) throw new SimulatedCrash();
          return (value as (...a: unknown[]) => Promise<void>).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function applyEntry(catalog: Catalog, chunks: ChunkStore, entry: LogEntryData): Promise<ApplyResult> {
  const decoded = decodeEntry(entry.data);
  const clockMs = clockAfter(decoded, catalog.clockMs);
  const result = await applyDecoded({ index: entry.index, clockMs, catalog, chunks }, decoded);
  await catalog.commitMeta(entry.index, clockMs);
  return result;
}

/** The result fields a re-applied entry may report differently: the effect had already happened. */
function comparable(result: ApplyResult): object {
  const { released: _r, deleted: _d, unreferencedChunks: _u, removed: _m, ...rest } = result as unknown as Record<string, unknown>;
  return rest;
}

const stateOf = (c: Catalog) => JSON.stringify([c.metaDoc, ...[...c.dataDocs()].sort((a, b) => a._id.localeCompare(b._id))]);
const docsOf = (c: Catalog) => [c.metaDoc, ...c.dataDocs()];

/** The digest of what survived: here we trust a partial state, to test apply itself (on disk, the digest check would have it rebuilt). */
function digestOf(c: Catalog): string {
  const digest = new StateDigest();
  for (const doc of c.dataDocs()) digest.toggle(JSON.stringify(doc));
  return digest.toHex();
}

describe('re-applying an entry after a crash mid-apply', () => {
  it('gives the state of a clean apply, for every entry and every cut point', async () => {
    await withTempDir(async (dir) => {
      const source = await TestNode.open(join(dir, 'source'));
      await runWorkload(source, 11, 12);
      await source.sm.close();
      const chunks = await ChunkStore.open(join(dir, 'chunks'), { fsync: false });
      const clean = await Catalog.empty();
      let cutsTried = 0;
      for (const entry of source.log) {
        const before = await Catalog.fromDocs(docsOf(clean));
        const cleanResult = await applyEntry(clean, chunks, entry);
        for (let cut = 0; ; cut++) {
          const crashed = await Catalog.fromDocs(docsOf(before));
          try {
            await applyEntry(crashingAfter(crashed, cut), chunks, entry);
            break; // no crash: every cut point of this entry is covered
          } catch (error) {
            if (!(error instanceof SimulatedCrash)) throw error;
          }
          cutsTried++;
          // Restart: the catalog reloads what survived (digest, reference counts and order re-derived), then the entry is applied again.
          const restarted = await Catalog.fromDocs(docsOf(crashed).map((d) => (d.kind === 'meta' ? { ...d, digest: digestOf(crashed) } : d)));
          const result = await applyEntry(restarted, chunks, entry);
          expect(comparable(result), `result of entry ${entry.index} re-applied after ${cut} writes`).toEqual(comparable(cleanResult));
          expect(stateOf(restarted), `entry ${entry.index} cut after ${cut} writes`).toBe(stateOf(clean));
          expect(restarted.digestHex).toBe(clean.digestHex);
          expect(restarted.refs.sorted()).toEqual(clean.refs.sorted());
          expect(restarted.order.page(null, 1000, '')).toEqual(clean.order.page(null, 1000, ''));
        }
      }
      expect(cutsTried).toBeGreaterThan(source.log.length);
    });
  });
});
