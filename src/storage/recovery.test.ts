import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from './errors.js';
import { makePayload, payloadProblem } from './test/payload.js';
import { append, conf, logPairs, openCollecting, openQuiet, run, segmentFiles, snapshotFiles } from './test/fixtures.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'larder-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => path.join(root, `case-${++n}`);
const small = { segmentBytesMax: 4096 };

/** A log of 1..60 over many 4 KiB segments, closed. */
async function written(): Promise<string> {
  const dir = freshDir();
  const s = await openQuiet(dir, small);
  for (let i = 1; i <= 60; i += 5) await append(s, run(i, 5, 1));
  await s.close();
  return dir;
}

function flipByte(file: string, offset: number): void {
  const buf = readFileSync(file);
  buf[offset]! ^= 0x5a;
  writeFileSync(file, buf);
}

async function expectRefusal(dir: string, code: string, file: string): Promise<StorageError> {
  const error = await openQuiet(dir, small).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  const e = error as StorageError;
  expect(e.code).toBe(code);
  expect(e.message).toContain(file);
  expect(e.message).toContain(`larder start --data-dir ${dir} --rebuild-from-peers`);
  return e;
}

describe('WAL recovery', () => {
  it('cuts a torn tail in the last segment, warning with the file and offset, and appends after it', async () => {
    const dir = await written();
    const last = segmentFiles(dir).at(-1)!;
    const size = readFileSync(last).length;
    appendFileSync(last, Buffer.from([7, 1, 0, 0, 4, 0, 0, 0, 1, 2, 3])); // a frame header cut short
    const { storage, warnings } = await openCollecting(dir, small);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`torn tail in ${last} at byte offset ${size}`);
    expect(readFileSync(last).length).toBe(size);
    expect(logPairs(storage)).toHaveLength(60);
    await append(storage, run(61, 1, 1));
    await storage.close();
    expect(logPairs(await openQuiet(dir, small))).toHaveLength(61);
  });

  it('treats a checksum-bad last record as torn: the entries before it stay, the record goes', async () => {
    const dir = await written();
    const last = segmentFiles(dir).at(-1)!;
    flipByte(last, readFileSync(last).length - 3); // inside the final hard state record
    const { storage, warnings } = await openCollecting(dir, small);
    expect(warnings[0]).toMatch(/torn tail .* checksum mismatch/);
    expect(logPairs(storage)).toHaveLength(60);
    await storage.close();
  });

  it('refuses a checksum failure followed by valid records, naming file, offset and the rebuild command', async () => {
    const dir = await written();
    const last = segmentFiles(dir).at(-1)!;
    flipByte(last, 40); // inside the segment's second record: valid ones follow
    const e = await expectRefusal(dir, 'WAL_CORRUPT', last);
    expect(e.message).toMatch(/at byte offset \d+/);
    expect(e.message).toContain('valid records follow');
  });

  it('refuses damage in a segment that is not the last one, even at its very end', async () => {
    const dir = await written();
    const [first] = segmentFiles(dir);
    truncateSync(first!, readFileSync(first!).length - 5);
    await expectRefusal(dir, 'WAL_CORRUPT', first!);
  });

  it('refuses a missing segment in the middle and an empty segment', async () => {
    const dir = await written();
    const files = segmentFiles(dir);
    unlinkSync(files[1]!);
    await expectRefusal(dir, 'WAL_CORRUPT', files[2]!);
    const other = await written();
    const lastFile = segmentFiles(other).at(-1)!;
    truncateSync(lastFile, 0);
    await expectRefusal(other, 'WAL_CORRUPT', lastFile);
  });

  it('refuses a corrupt current snapshot file; keeps the latest two snapshot files', async () => {
    const dir = await written();
    const s = await openQuiet(dir, small);
    for (const index of [10, 20, 30]) await s.createSnapshot(index, conf, Uint8Array.of(index));
    await s.close();
    const snaps = snapshotFiles(dir);
    expect(snaps.map((f) => path.basename(f))).toEqual(['0000000000000020-0000000000000001.snap', '0000000000000030-0000000000000001.snap']);
    flipByte(snaps[1]!, 45);
    const e = await expectRefusal(dir, 'SNAPSHOT_CORRUPT', snaps[1]!);
    expect(e.message).toContain('checksum mismatch');
  });

  it('verifies entry checksums on every read from disk, not only at recovery', async () => {
    const dir = await written();
    const s = await openQuiet(dir, { ...small, cacheBytesMax: 0 });
    const first = segmentFiles(dir)[0]!;
    const body = readFileSync(first).indexOf(makePayload(3, 1, 200));
    expect(body).toBeGreaterThan(0);
    flipByte(first, body + 100); // entry 3's payload, after recovery verified it
    expect(s.entries(1, 3, Number.MAX_SAFE_INTEGER)).toHaveLength(2);
    expect(() => s.entries(1, 61, Number.MAX_SAFE_INTEGER)).toThrow(/fails its checksum on read/);
    await s.close();
  });

  it('group-commits concurrent saves: 64 appends share far fewer fdatasyncs', async () => {
    const s = await openQuiet(freshDir());
    await Promise.all(Array.from({ length: 64 }, (_, i) => append(s, run(i + 1, 1, 1))));
    expect(s.lastIndex()).toBe(64);
    expect(s.stats().syncs).toBeLessThanOrEqual(4);
    await s.close();
  });

  it('compaction deletes old segments; the remaining suffix replays on its own', async () => {
    const dir = await written();
    const s = await openQuiet(dir, small);
    const before = s.stats().segments;
    await s.createSnapshot(50, conf, Uint8Array.of(50));
    await s.compact(50);
    expect(s.stats().segments).toBeLessThan(before);
    expect(s.stats().oldestSegment).toBeGreaterThan(1);
    await s.close();
    const t = await openQuiet(dir, small);
    expect([t.firstIndex(), t.lastIndex(), t.term(50)]).toEqual([51, 60, 1]);
    expect(logPairs(t)).toEqual(run(51, 10, 1).map((e) => [e.index, e.term]));
    await t.close();
  });

  describe('replay from a segment whose predecessors were compacted away', () => {
    /** Entries 1..100 at term 1 fill segment 1; the next save opens segment 2, whose header says "last 100, term 1". */
    async function twoSegments(): Promise<{ dir: string; s: Awaited<ReturnType<typeof openQuiet>> }> {
      const dir = freshDir();
      const s = await openQuiet(dir, small);
      await append(s, run(1, 100, 1), 50);
      return { dir, s };
    }

    it('a suffix replaced back to before the segment start, ending exactly there, then compacted', async () => {
      const { dir, s } = await twoSegments();
      await append(s, run(80, 21, 2, 100), 60); // 80..100 at term 2: entry 100 is no longer what segment 2's header says
      await s.createSnapshot(100, conf, Uint8Array.of(1));
      await s.compact(100);
      expect(segmentFiles(dir).map((f) => path.basename(f))).toEqual(['00000002.seg']);
      await s.close();
      const t = await openQuiet(dir, small);
      expect([t.firstIndex(), t.lastIndex(), t.term(100)]).toEqual([101, 100, 2]);
      await t.close();
    });

    it('a suffix replaced back to before the segment start, regrown past it, then compacted', async () => {
      const { dir, s } = await twoSegments();
      await append(s, run(80, 11, 2), 60); // 80..90 at term 2: the log is now shorter than segment 2's header says
      await append(s, run(91, 30, 2), 60); // 91..120
      await s.createSnapshot(110, conf, Uint8Array.of(1));
      await s.compact(110);
      expect(segmentFiles(dir)[0]).toMatch(/00000002\.seg$/);
      await s.close();
      const t = await openQuiet(dir, small);
      expect([t.firstIndex(), t.term(110)]).toEqual([111, 2]);
      expect(logPairs(t)).toEqual(run(111, 10, 2).map((e) => [e.index, e.term]));
      for (const e of t.entries(111, 121, Number.MAX_SAFE_INTEGER)) expect(payloadProblem(e)).toBeNull();
      await t.close();
    });
  });
}, 30_000);
