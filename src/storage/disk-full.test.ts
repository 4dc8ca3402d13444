import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DurableStorage } from './durable-storage.js';
import { StorageError } from './errors.js';
import { append, conf, openCollecting, openQuiet, run } from './test/fixtures.js';
import { payloadProblem } from './test/payload.js';

/*
 * A real full disk: a 2 MiB tmpfs (this needs root). If it cannot be mounted the tests are
 * reported as skipped, with the reason, never as passed.
 */

function mountTinyDisk(): { dir: string; reason: null } | { dir: null; reason: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'larder-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir, reason: null };
  } catch (e) {
    rmdirSync(dir);
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return { dir: null, reason: stderr || (e as Error).message };
  }
}

const disk = mountTinyDisk();
if (disk.dir === null) console.warn(`disk-full tests SKIPPED: could not mount a 2 MiB tmpfs (${disk.reason}); they need root`);
const title = disk.dir === null ? ` (skipped: cannot mount tmpfs: ${disk.reason})` : '';

/** Closed in afterAll when a failed assertion left it open: an open file keeps the mount busy. */
let openStorage: DurableStorage | null = null;

afterAll(async () => {
  if (disk.dir === null) return;
  await openStorage?.close().catch(() => {});
  execFileSync('umount', ['--lazy', disk.dir]);
  rmdirSync(disk.dir);
});

/** Appends 32 KiB entries until a save fails; returns the failure and the last acknowledged index. */
async function fillUp(s: DurableStorage): Promise<{ error: unknown; acked: number }> {
  for (let i = 0; i < 1000; i++) {
    const next = s.lastIndex() + 1;
    const error = await append(s, run(next, 1 + (i % 3), 2, 32 * 1024)).then(
      () => null,
      (e: unknown) => e,
    );
    if (error !== null) return { error, acked: s.lastIndex() };
  }
  throw new Error('a 2 MiB disk never filled up');
}

function expectIntact(s: DurableStorage, lastIndex: number): void {
  expect(s.lastIndex()).toBe(lastIndex);
  const entries = s.entries(s.firstIndex(), lastIndex + 1, Number.MAX_SAFE_INTEGER);
  expect(entries.map((e) => e.index)).toEqual(Array.from({ length: lastIndex }, (_, i) => i + 1));
  for (const e of entries) expect(payloadProblem(e)).toBeNull();
}

describe('disk full', () => {
  it.skipIf(disk.dir === null)(`save rejects with DISK_FULL, nothing partial is kept, and appends resume once space is freed${title}`, async () => {
    const dataDir = path.join(disk.dir!, 'node');
    const filler = path.join(disk.dir!, 'filler');
    const s = await openQuiet(dataDir, { segmentBytesMax: 256 * 1024 });
    openStorage = s;
    await s.bootstrap(conf);
    writeFileSync(filler, new Uint8Array(512 * 1024));

    const { error, acked } = await fillUp(s);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('DISK_FULL');
    expect((error as StorageError).message).toContain(`no space left on the device holding ${dataDir}`);
    expect((error as StorageError).message).toContain('Free space');
    expectIntact(s, acked);

    // Several saves in flight on a full disk: once one fails, it and every one queued behind it
    // are rejected (they were checked against a log that now never comes); none is half-applied.
    const burst = await Promise.allSettled([1, 2, 3, 4].map((k) => append(s, run(acked + k, 1, 2, 32 * 1024))));
    const outcomes = burst.map((r) => (r.status === 'rejected' ? (r.reason as StorageError).code : 'ok')).join(' ');
    expect(outcomes).toMatch(/^(ok )*DISK_FULL( DISK_FULL)*$/);
    const afterBurst = acked + outcomes.split('ok').length - 1;
    await expect(s.createSnapshot(afterBurst, conf, new Uint8Array(600 * 1024))).rejects.toMatchObject({ code: 'DISK_FULL' });
    expect(readdirSync(path.join(dataDir, 'snap')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expectIntact(s, afterBurst);

    rmSync(filler);
    await append(s, run(afterBurst + 1, 2, 2, 32 * 1024));
    expectIntact(s, afterBurst + 2);
    writeFileSync(filler, new Uint8Array(300 * 1024));
    const second = await fillUp(s);
    expect((second.error as StorageError).code).toBe('DISK_FULL');
    await s.close();

    const { storage: reopened, warnings } = await openCollecting(dataDir, { segmentBytesMax: 256 * 1024 });
    openStorage = reopened;
    expect(warnings, 'a rejected save must leave no partial record behind').toEqual([]);
    expectIntact(reopened, second.acked);
    rmSync(filler);
    await reopened.createSnapshot(second.acked, conf, Uint8Array.of(1));
    await reopened.compact(second.acked);
    await append(reopened, run(second.acked + 1, 1, 3, 32 * 1024));
    expect(reopened.lastIndex()).toBe(second.acked + 1);
    await reopened.close();
  });
});
