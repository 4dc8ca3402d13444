/** What every command's apply sees, and the typed results it returns. */
import type { Catalog } from './catalog.js';
import type { ChunkStore } from './chunk-store.js';
import type { CommandType, FileStatus, MemberRole, SettableStatus } from './command-schemas.js';

export interface ApplyContext {
  /** The entry's Raft index: also the fencing token of a lock it grants. */
  readonly index: number;
  /**
   * The replicated clock for this entry: max(previous clock, the entry's nowMs). Never goes back,
   * so a proposer with a slow clock cannot revive an expired lease.
   */
  readonly clockMs: number;
  /** Also keeps the chunk reference counts and the file order, as documents come and go. */
  readonly catalog: Catalog;
  readonly chunks: ChunkStore;
}

export type RejectCode = 'MALFORMED_COMMAND' | 'CHUNK_HASH_MISMATCH' | 'LOCK_HELD' | 'LOCK_NOT_HELD' | 'STALE_TOKEN' | 'LOCK_EXPIRED';

export interface Rejection {
  readonly ok: false;
  /** null when the bytes did not even decode to a command. */
  readonly command: CommandType | null;
  readonly code: RejectCode;
  readonly message: string;
  /** For LOCK_HELD: who holds it and until when (never the token: that is the holder's capability). */
  readonly heldBy?: { readonly holder: string; readonly leaseExpiresAtMs: number };
}

export type Accepted =
  | { readonly ok: true; readonly command: 'noop' }
  | { readonly ok: true; readonly command: 'alreadyApplied' }
  | { readonly ok: true; readonly command: 'putChunk'; readonly hash: string; readonly size: number }
  | { readonly ok: true; readonly command: 'acquireLock'; readonly key: string; readonly token: number; readonly leaseExpiresAtMs: number }
  | { readonly ok: true; readonly command: 'keepAliveLock'; readonly key: string; readonly token: number; readonly leaseExpiresAtMs: number }
  | { readonly ok: true; readonly command: 'releaseLock'; readonly key: string; readonly released: boolean }
  | { readonly ok: true; readonly command: 'commitFile'; readonly hash: string; readonly status: Extract<FileStatus, 'done' | 'duplicate'> }
  | { readonly ok: true; readonly command: 'setStatus'; readonly hash: string; readonly status: SettableStatus; readonly recorded: boolean }
  | { readonly ok: true; readonly command: 'deleteFile'; readonly hash: string; readonly deleted: boolean; readonly unreferencedChunks: readonly string[] }
  | { readonly ok: true; readonly command: 'setMember'; readonly id: string; readonly address: string; readonly role: MemberRole }
  | { readonly ok: true; readonly command: 'removeMember'; readonly id: string; readonly removed: boolean };

/**
 * Deterministic: the same entry on the same state gives the same result and the same state on
 * every node. After a crash mid-apply, re-applying the entry gives the same state; its result
 * may then report the effect as already done (released: false, deleted: false).
 */
export type ApplyResult = Accepted | Rejection;

export function reject(command: CommandType | null, code: RejectCode, message: string, heldBy?: Rejection['heldBy']): Rejection {
  return heldBy === undefined ? { ok: false, command, code, message } : { ok: false, command, code, message, heldBy };
}
