/** Typed errors of the node's durable storage; `code` is stable for callers to switch on. */

export type StorageErrorCode =
  /** A WAL segment holds a bad record that is not a torn tail: the node must not start on it. */
  | 'WAL_CORRUPT'
  /** The snapshot file the WAL points to is missing or fails its checksum. */
  | 'SNAPSHOT_CORRUPT'
  /**
   * No space left on the device holding the data dir. Nothing partial was kept, and every save
   * queued behind the failed one is rejected with the same error; retry once space is freed.
   */
  | 'DISK_FULL'
  /** An fsync or write failed in a way that leaves the on-disk state unknown: restart the node. */
  | 'WAL_FAILED'
  /** The storage was closed. */
  | 'CLOSED';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** The command that replaces a node's broken local state with a copy from its peers. */
export function rebuildCommand(dataDir: string): string {
  return `larder start --data-dir ${dataDir} --rebuild-from-peers`;
}

/** Corruption that recovery must not paper over: names the file, the offset and the way out. */
export function walCorrupt(file: string, offset: number, what: string, dataDir: string): StorageError {
  return new StorageError(
    'WAL_CORRUPT',
    `write-ahead log is corrupt: ${what} in ${file} at byte offset ${offset}. ` +
      `This is not a torn write at the end of the log, so the node refuses to start rather than lose or invent acknowledged entries. ` +
      `Rebuild this node from its peers: ${rebuildCommand(dataDir)}`,
  );
}

export function snapshotCorrupt(file: string, what: string, dataDir: string): StorageError {
  return new StorageError(
    'SNAPSHOT_CORRUPT',
    `snapshot ${file} is unusable: ${what}. The log before it is compacted, so the node cannot start without it. ` +
      `Rebuild this node from its peers: ${rebuildCommand(dataDir)}`,
  );
}

export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function diskFull(dir: string, file: string, cause: unknown): StorageError {
  return new StorageError(
    'DISK_FULL',
    `no space left on the device holding ${dir} (while writing ${file}). Nothing partial was kept. ` +
      `Free space on that disk (or move the data dir to a larger one) and retry.`,
    { cause },
  );
}
