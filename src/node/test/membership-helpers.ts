import { createHash } from 'node:crypto';
import type { ClusterInfoResponse } from '../../shared/proto/larder/v1/store.js';
import { bytesOf, pieces, sleep, type TestCluster, type TestNode } from './cluster-harness.js';

/** Shared by the membership, discovery and scale tests of src/node. */

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Uploads a ~300 KiB file made from `seed`; resolves with its hash. */
export async function upload(c: TestCluster, seed: number, endpoints = c.endpoints(), deadlineMs?: number): Promise<string> {
  const data = bytesOf(300 * 1024 + seed, seed);
  try {
    const res = await c
      .client(endpoints, deadlineMs)
      .upload({ name: `f${seed}.bin`, mime: 'application/octet-stream', size: data.length, open: () => pieces(data) });
    return res.hash;
  } catch (e) {
    // The nodes' last words say why; the client's error alone rarely does.
    throw new Error(`upload of f${seed}.bin failed: ${(e as Error).message}\n${c.tail(40)}`, { cause: e });
  }
}

/** The SHA-256 of what node `n` serves for `hash`. */
export async function readFrom(c: TestCluster, n: TestNode, hash: string): Promise<string> {
  const parts: Buffer[] = [];
  await c.client([n.address]).download({ hash }, (d) => void parts.push(Buffer.from(d)));
  return sha(Buffer.concat(parts));
}

/** Polls `probe` until it returns a value (not null) or the time is up. */
export async function eventually<T>(what: string, probe: () => Promise<T | null>, c: TestCluster, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    await sleep(100);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms\n${c.tail(25)}`);
}

export function membershipOf(info: ClusterInfoResponse | null, id: string): string | null {
  return info?.peers.find((p) => p.id === id)?.membership ?? null;
}

export async function leaderInfo(c: TestCluster): Promise<ClusterInfoResponse> {
  const info = await c.info(await c.waitForLeader());
  if (!info) throw new Error('the leader stopped answering');
  return info;
}

/** The voters as the leader sees them, sorted. */
export async function votersOf(c: TestCluster): Promise<string[]> {
  return (await leaderInfo(c)).peers
    .filter((p) => p.membership === 'voter')
    .map((p) => p.id)
    .sort();
}

/** Resolves with the process's exit code once it has exited. */
export function exited(n: TestNode): Promise<number | null> {
  const p = n.proc!;
  return new Promise((res) => (p.exitCode !== null ? res(p.exitCode) : p.once('exit', (code) => res(code))));
}
