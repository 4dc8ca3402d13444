/**
 * The process the crash tests kill. It appends to a DurableStorage as a Raft node would (many
 * saves in flight, so they group-commit; conflicting suffixes replaced under a new term;
 * snapshots and compaction) and prints one line per operation on stdout, which is a pipe and so
 * written synchronously: `issue` before calling, `ack` once the promise resolved (durable).
 *
 *   ready <firstIndex> <lastIndex> <term> <commit>
 *   issue <k> append <firstIndex> <count> <term> <commit>
 *   issue <k> compact <snapshotIndex> <compactIndex>
 *   ack <k>
 *
 * In the `mid-compaction` and `mid-truncation` modes it also SIGKILLs itself at the worst moments:
 * between segment deletions, or halfway through writing a round that replaces a suffix.
 */
import fs, { promises as fsp } from 'node:fs';
import { DurableStorage } from '../durable-storage.js';
import { makeEntry, makePayload } from './payload.js';
import { seededRandom } from '../../raft/index.js';

export interface CrashChildConfig {
  readonly dir: string;
  readonly seed: number;
  readonly mode: 'random' | 'mid-compaction' | 'mid-truncation';
  readonly segmentBytesMax: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as CrashChildConfig;
const rand = seededRandom(config.seed);
const chance = (p: number): boolean => rand.next() < p;
const say = (line: string): void => void fs.writeSync(1, `${line}\n`);
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL sent to self');
};

let compacting = 0;
let truncating = 0;
await installCrashPoints();

const storage = await DurableStorage.open(config.dir, {
  segmentBytesMax: config.segmentBytesMax,
  cacheBytesMax: 1 << 20,
  logger: { warn: (m) => process.stderr.write(`${m}\n`) },
});
const init = storage.initialState().hardState;
let next = storage.lastIndex() + 1;
let term = Math.max(init.term, storage.term(storage.lastIndex()));
let commit = init.commit;
let snapshotIndex = storage.snapshot().metadata.index;
let compactedThrough = storage.firstIndex() - 1;
let opCount = 0;
say(`ready ${storage.firstIndex()} ${storage.lastIndex()} ${term} ${commit}`);

const inFlight = new Set<Promise<void>>();
for (;;) {
  const parallel = 1 + rand.int(8);
  while (inFlight.size < parallel) track(issue(++opCount));
  await Promise.race(inFlight);
}

function track(p: Promise<void>): void {
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p));
}

function issue(k: number): Promise<void> {
  const p = config.mode === 'mid-compaction' ? 0.15 : 0.03;
  if (commit > snapshotIndex && chance(p)) return issueCompaction(k);
  const truncateP = config.mode === 'mid-truncation' ? 0.4 : 0.1;
  if (next - 1 > commit && chance(truncateP)) return issueAppend(k, commit + 1 + rand.int(next - 1 - commit), term + 1, true);
  return issueAppend(k, next, term, false);
}

async function issueAppend(k: number, first: number, entryTerm: number, replacesSuffix: boolean): Promise<void> {
  const count = replacesSuffix ? 1 + rand.int(8) : 1 + rand.int(16);
  const entries = Array.from({ length: count }, (_, i) => makeEntry(first + i, entryTerm, entryBytes()));
  term = entryTerm;
  next = first + count;
  commit = Math.max(commit, next - 2 - rand.int(24));
  say(`issue ${k} append ${first} ${count} ${entryTerm} ${commit}`);
  if (replacesSuffix) truncating++;
  await storage.save({ entries, hardState: { term, vote: 'a', commit }, snapshot: null, mustSync: true });
  if (replacesSuffix) truncating--;
  say(`ack ${k}`);
}

/** A snapshot at the commit index, then compaction up to a few entries before it (both exclusive, so in order). */
async function issueCompaction(k: number): Promise<void> {
  const snapAt = commit;
  const compactTo = Math.max(compactedThrough + 1, snapAt - rand.int(8));
  snapshotIndex = snapAt;
  compactedThrough = compactTo;
  say(`issue ${k} compact ${snapAt} ${compactTo}`);
  compacting++;
  const created = storage.createSnapshot(snapAt, { voters: ['a', 'b', 'c'], learners: [] }, makePayload(snapAt, 0, 100 + rand.int(5000)));
  const compacted = storage.compact(compactTo);
  await created;
  await compacted;
  compacting--;
  say(`ack ${k}`);
}

/** Mostly small entries, some of tens of KiB, a few full 255 KiB chunks. */
function entryBytes(): number {
  const r = rand.next();
  if (r < 0.7) return 16 + rand.int(2048);
  if (r < 0.95) return 2048 + rand.int(30 * 1024);
  return 32 * 1024 + rand.int(223 * 1024);
}

/** Segment deletion uses fs.promises.unlink and writes use FileHandle.writev: both are patched here. */
async function installCrashPoints(): Promise<void> {
  if (config.mode === 'mid-compaction') {
    const unlink = fsp.unlink.bind(fsp);
    fsp.unlink = async (file) => {
      if (compacting > 0 && chance(0.3)) die();
      await unlink(file);
      if (compacting > 0 && chance(0.3)) die();
    };
  }
  if (config.mode === 'mid-truncation') await patchWritev();
}

/** Tears a round that carries a suffix replacement: writes a random prefix of its bytes, then dies. */
async function patchWritev(): Promise<void> {
  const probe = await fsp.open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as { writev(buffers: Uint8Array[], position?: number): Promise<{ bytesWritten: number }> };
  await probe.close();
  const writev = proto.writev;
  proto.writev = async function (this: unknown, buffers: Uint8Array[], position?: number) {
    if (truncating === 0 || !chance(0.15)) return writev.call(this, buffers, position);
    const total = buffers.reduce((s, b) => s + b.length, 0);
    const keep = rand.int(total + 1);
    const flat = Buffer.concat(buffers).subarray(0, keep);
    await writev.call(this, [flat], position);
    return die();
  };
}
