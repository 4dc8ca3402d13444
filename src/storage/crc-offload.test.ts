import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32cUpdate } from './crc32c.js';
import { OFFLOAD_MIN_BYTES, crc32cUpdateOffloaded } from './crc32c-worker.js';
import { StorageError } from './errors.js';
import { append, openQuiet, run, segmentFiles } from './test/fixtures.js';
import { payloadProblem } from './test/payload.js';

/* Large entry payloads are checksummed on worker threads (crc32c-worker.ts): the same CRCs, verified on recovery as before. */

const root = mkdtempSync(path.join(os.tmpdir(), 'larder-crc-offload-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const filled = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

describe('CRC-32C on the worker', () => {
  it('agrees with this thread for every size, seed and offset, many jobs at once (slot-sized pieces included)', async () => {
    const backing = filled(3 * 1024 * 1024 + 16, (i) => (i * 2654435761) >>> 24);
    const cases = [
      [0, 0, OFFLOAD_MIN_BYTES],
      [3, 7, 255 * 1024],
      [1, 0xdeadbeef, 1 << 20],
      [5, 0, (1 << 20) + 1],
      [2, 42, 3 * 1024 * 1024 + 11],
      ...Array.from({ length: 20 }, (_, k) => [k % 8, k, 100_000 + k * 997] as const),
    ] as const;
    const got = await Promise.all(cases.map(([offset, seed, length]) => crc32cUpdateOffloaded(seed, backing.subarray(offset, offset + length))));
    cases.forEach(([offset, seed, length], k) =>
      expect(got[k], `offset ${offset} seed ${seed} length ${length}`).toBe(crc32cUpdate(seed, backing.subarray(offset, offset + length))),
    );
  });
});

describe('large entries through the WAL', () => {
  it('are written, recovered and read back intact; a flipped payload byte is never served', async () => {
    const dir = path.join(root, 'large');
    const s = await openQuiet(dir);
    // Concurrent saves of 255 KiB entries, some batched, so rounds mix offloaded and inline payloads.
    const saves: Promise<void>[] = [];
    let next = 1;
    for (let k = 0; k < 24; k++) {
      const count = 1 + (k % 3);
      const bytes = k % 4 === 3 ? 1000 : 255 * 1024;
      saves.push(append(s, run(next, count, 1, bytes)));
      next += count;
    }
    await Promise.all(saves);
    const last = next - 1;
    const check = (entries: readonly Parameters<typeof payloadProblem>[0][]): void => {
      for (const e of entries) expect(payloadProblem(e), `entry ${e.index}`).toBeNull();
    };
    check(s.entries(1, last + 1, Infinity));
    await s.close();

    const reopened = await openQuiet(dir, { cacheBytesMax: 0 });
    expect(reopened.lastIndex()).toBe(last);
    check(reopened.entries(1, last + 1, Infinity));
    await reopened.close();

    // Flip one byte well inside the first entry's payload: recovery must refuse, or keep only what is intact.
    const [segment] = segmentFiles(dir);
    const buf = readFileSync(segment!);
    buf[100_000]! ^= 0x10;
    writeFileSync(segment!, buf);
    try {
      const damaged = await openQuiet(dir, { cacheBytesMax: 0 });
      check(damaged.entries(damaged.firstIndex(), damaged.lastIndex() + 1, Infinity));
      expect(damaged.lastIndex()).toBe(0);
      await damaged.close();
    } catch (e) {
      expect(e).toBeInstanceOf(StorageError);
      expect((e as StorageError).code).toBe('WAL_CORRUPT');
    }
  });
});
