/** One committed entry's effect: decode, then dispatch to the command's apply. */
import { decodeCommand, type Command } from './commands.js';
import { CommandDecodeError } from './errors.js';
import { applyAcquireLock, applyKeepAliveLock, applyReleaseLock } from './apply-locks.js';
import { applyCommitFile, applyDeleteFile, applyPutChunk, applyRemoveMember, applySetMember, applySetStatus } from './apply-files.js';
import { reject, type ApplyContext, type ApplyResult } from './apply-context.js';

export type DecodedEntry = { kind: 'noop' } | { kind: 'command'; command: Command } | { kind: 'malformed'; message: string };

/**
 * Empty data is a no-op (a new leader's entry, or a membership change the runtime passes as empty).
 * Malformed bytes are rejected the same way on every node; a newer format throws CommandUnsupportedError.
 */
export function decodeEntry(data: Uint8Array): DecodedEntry {
  if (data.length === 0) return { kind: 'noop' };
  try {
    return { kind: 'command', command: decodeCommand(data) };
  } catch (error) {
    if (error instanceof CommandDecodeError) return { kind: 'malformed', message: error.message };
    throw error;
  }
}

/** The entry's clock: commands that carry the proposer's time advance it, never backwards. */
export function clockAfter(entry: DecodedEntry, clockMs: number): number {
  if (entry.kind !== 'command' || !('nowMs' in entry.command)) return clockMs;
  return Math.max(clockMs, entry.command.nowMs);
}

export async function applyDecoded(ctx: ApplyContext, entry: DecodedEntry): Promise<ApplyResult> {
  if (entry.kind === 'noop') return { ok: true, command: 'noop' };
  if (entry.kind === 'malformed') return reject(null, 'MALFORMED_COMMAND', entry.message);
  const cmd = entry.command;
  switch (cmd.type) {
    case 'putChunk':
      return applyPutChunk(ctx, cmd);
    case 'acquireLock':
      return applyAcquireLock(ctx, cmd);
    case 'keepAliveLock':
      return applyKeepAliveLock(ctx, cmd);
    case 'releaseLock':
      return applyReleaseLock(ctx, cmd);
    case 'commitFile':
      return applyCommitFile(ctx, cmd);
    case 'setStatus':
      return applySetStatus(ctx, cmd);
    case 'deleteFile':
      return applyDeleteFile(ctx, cmd);
    case 'setMember':
      return applySetMember(ctx, cmd);
    case 'removeMember':
      return applyRemoveMember(ctx, cmd);
  }
}
