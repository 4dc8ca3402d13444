/**
 * Typed errors of the node's store. Every error carries a stable `code` for callers to branch on
 * and a message that says what happened and what to do about it.
 */

export type StoreErrorCode =
  | 'INVALID_ARGUMENT'
  | 'COMMAND_INVALID'
  | 'COMMAND_MALFORMED'
  | 'COMMAND_UNSUPPORTED'
  | 'CHUNK_HASH_MISMATCH'
  | 'CHUNK_CORRUPT'
  | 'CHUNK_MISSING'
  | 'CATALOG_CORRUPT'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_UNSUPPORTED'
  | 'APPLY_OUT_OF_ORDER'
  | 'STATE_MACHINE_FAILED';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bytes that are not a well-formed command of a format version this node knows. */
export class CommandDecodeError extends StoreError {
  constructor(message: string) {
    super('COMMAND_MALFORMED', `malformed command: ${message}`);
  }
}

/**
 * A command of a newer format version or an unknown opcode: a newer node proposed it. Applying
 * must stop here (skipping would make this node's state diverge from the nodes that understood it).
 */
export class CommandUnsupportedError extends StoreError {
  constructor(message: string) {
    super('COMMAND_UNSUPPORTED', `${message}; upgrade Larder on this node, then restart it (the entry is applied after the upgrade)`);
  }
}

/** Bytes offered to the chunk store under a hash they do not have. */
export class ChunkHashMismatchError extends StoreError {
  constructor(
    readonly expectedHash: string,
    readonly actualHash: string,
  ) {
    super('CHUNK_HASH_MISMATCH', `chunk bytes hash to ${actualHash}, not to the claimed ${expectedHash}; nothing was stored`);
  }
}

export type ChunkProblemReason = 'missing' | 'hashMismatch' | 'tooLarge';

/**
 * A stored chunk whose bytes are gone or do not match its hash. Never answered with wrong bytes:
 * the caller fetches the chunk from a peer by hash and `put`s it, which replaces the bad file.
 */
export class ChunkCorruptError extends StoreError {
  constructor(
    readonly hash: string,
    readonly path: string,
    readonly reason: ChunkProblemReason,
    detail: string,
  ) {
    super(
      reason === 'missing' ? 'CHUNK_MISSING' : 'CHUNK_CORRUPT',
      `chunk ${hash} at ${path} is ${reason === 'missing' ? 'missing' : 'corrupt'} (${detail}); ` +
        'fetch it from a peer by hash and put it again (that replaces the file), or run scrub() to find every bad chunk',
    );
  }
}

/** The NeDB catalog on disk cannot be trusted. It is derived state: rebuild it from snapshot + log. */
export class CatalogCorruptError extends StoreError {
  constructor(
    readonly filename: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'CATALOG_CORRUPT',
      `catalog ${filename} is unusable (${detail}); rebuild it from the latest snapshot and the log (openStateMachine does this)`,
      options,
    );
  }
}

export class SnapshotCorruptError extends StoreError {
  constructor(where: string, detail: string) {
    super('SNAPSHOT_CORRUPT', `snapshot ${where} is corrupt (${detail}); discard it and install a fresh snapshot from the leader`);
  }
}

export class SnapshotUnsupportedError extends StoreError {
  constructor(where: string, version: number, known: number) {
    super('SNAPSHOT_UNSUPPORTED', `snapshot ${where} has format version ${version}, this node knows up to ${known}; upgrade Larder on this node`);
  }
}

/** Thrown for invariant violations at our API boundary: a bug in the caller, never user input. */
export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new StoreError('INVALID_ARGUMENT', message());
}
