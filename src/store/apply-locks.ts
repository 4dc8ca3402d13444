/**
 * Per-key locks with leases and fencing tokens. The token is the Raft index of the granting
 * entry: unique, and larger for every later grant, so a write carrying an old token is refused
 * once anyone else was granted the lock (Kleppmann's fencing; Jepsen found etcd's lock unsafe
 * without it). Time is the replicated clock in the entry (ApplyContext.clockMs), never this node's.
 */
import { lockId, type LockDoc } from './catalog-docs.js';
import type { AcquireLock, KeepAliveLock, ReleaseLock } from './command-schemas.js';
import { reject, type ApplyContext, type ApplyResult, type Rejection } from './apply-context.js';

export async function applyAcquireLock(ctx: ApplyContext, cmd: AcquireLock): Promise<ApplyResult> {
  const held = await findLock(ctx, cmd.key);
  // Our own grant, written before a crash cut the apply short: the same grant again.
  if (held !== null && held.token === ctx.index) return granted(held);
  // The same holder asking again (a retried upload) takes the lock over with a new token, which
  // fences off whatever its earlier attempt may still try.
  if (held !== null && !isExpired(held, ctx.clockMs) && held.holder !== cmd.holder) {
    return reject('acquireLock', 'LOCK_HELD', `lock ${cmd.key} is held by ${held.holder} until ${held.leaseExpiresAtMs}`, {
      holder: held.holder,
      leaseExpiresAtMs: held.leaseExpiresAtMs,
    });
  }
  const lock: LockDoc = {
    _id: lockId(cmd.key),
    kind: 'lock',
    key: cmd.key,
    holder: cmd.holder,
    token: ctx.index,
    ttlMs: cmd.ttlMs,
    acquiredAtMs: ctx.clockMs,
    leaseExpiresAtMs: ctx.clockMs + cmd.ttlMs,
  };
  await ctx.catalog.put(lock);
  return granted(lock);
}

export async function applyKeepAliveLock(ctx: ApplyContext, cmd: KeepAliveLock): Promise<ApplyResult> {
  const held = await findLock(ctx, cmd.key);
  const problem = checkHolder('keepAliveLock', cmd.key, held, cmd.token, ctx.clockMs);
  if (problem !== null) return problem;
  const lock = held as LockDoc;
  // max: a keep-alive never shortens a lease (a later proposer's clock may lag an earlier one's).
  const renewed: LockDoc = { ...lock, leaseExpiresAtMs: Math.max(lock.leaseExpiresAtMs, ctx.clockMs + lock.ttlMs) };
  await ctx.catalog.put(renewed);
  return { ok: true, command: 'keepAliveLock', key: cmd.key, token: cmd.token, leaseExpiresAtMs: renewed.leaseExpiresAtMs };
}

/** Releasing an expired lock with its own token is allowed: nobody else holds it, so it harms no one. */
export async function applyReleaseLock(ctx: ApplyContext, cmd: ReleaseLock): Promise<ApplyResult> {
  const held = await findLock(ctx, cmd.key);
  if (held === null) return { ok: true, command: 'releaseLock', key: cmd.key, released: false };
  if (held.token !== cmd.token) return reject('releaseLock', 'STALE_TOKEN', `token ${cmd.token} no longer holds lock ${cmd.key}`);
  await ctx.catalog.remove(held._id);
  return { ok: true, command: 'releaseLock', key: cmd.key, released: true };
}

/** null when `token` is the current, unexpired holder's; otherwise why not. */
export function checkHolder(command: 'keepAliveLock' | 'commitFile', key: string, held: LockDoc | null, token: number, clockMs: number): Rejection | null {
  if (held === null) return reject(command, 'LOCK_NOT_HELD', `lock ${key} is not held; acquire it first`);
  if (held.token !== token) return reject(command, 'STALE_TOKEN', `token ${token} no longer holds lock ${key} (it was granted again since); acquire it again`);
  if (isExpired(held, clockMs))
    return reject(command, 'LOCK_EXPIRED', `the lease on ${key} for token ${token} expired at ${held.leaseExpiresAtMs}; acquire it again`);
  return null;
}

export async function findLock(ctx: ApplyContext, key: string): Promise<LockDoc | null> {
  const doc = await ctx.catalog.findById(lockId(key));
  return doc?.kind === 'lock' ? doc : null;
}

export function isExpired(lock: LockDoc, clockMs: number): boolean {
  return lock.leaseExpiresAtMs <= clockMs;
}

function granted(lock: LockDoc): ApplyResult {
  return { ok: true, command: 'acquireLock', key: lock.key, token: lock.token, leaseExpiresAtMs: lock.leaseExpiresAtMs };
}
