/** The node's durable store: replicated commands, chunk store, NeDB catalog, state machine and snapshots. */
export * from './errors.js';
export * from './commands.js';
export { CHUNK_SIZE_MAX_BYTES, isHash, sha256Hex } from './hash.js';
export { ChunkStore, type ChunkProblem, type ChunkStoreInit, type GcOptions, type PutOutcome } from './chunk-store.js';
export type { Accepted, ApplyResult, RejectCode, Rejection } from './apply-context.js';
export type { FilePage, FileSummary, ListFilesQuery, LockView, MemberView, StatusView, StoredFile } from './catalog-queries.js';
export type { MemberRole } from './command-schemas.js';
export { CatalogQueries, LIST_LIMIT_MAX } from './catalog-queries.js';
export { NAMES_PER_FILE_MAX, type CatalogDoc, type DataDoc, type FileDoc, type MetaDoc } from './catalog-docs.js';
export { StateMachine, DEFAULT_LEASE_MS, GC_GRACE_MS, catalogPath, type ExportedState, type LogEntryData, type StateMachineInit } from './state-machine.js';
export { openStateMachine, type DurableRaftState, type RecoveryAction, type RecoveryInit } from './recovery.js';
export { decodeSnapshot, snapshotAppliedIndex, SNAPSHOT_FORMAT_VERSION, type SnapshotContent } from './snapshot-format.js';
export { readSnapshotFile, writeSnapshotFile } from './snapshot-file.js';
