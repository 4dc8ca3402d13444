/**
 * Opening a node's state machine after a start or a crash. The catalog is derived state, so
 * whenever it cannot be trusted it is rebuilt from the latest snapshot plus the durable log:
 *  - missing (and the node has durable state),
 *  - garbled: a line does not parse, a document fails validation, or the digest does not match,
 *  - inconsistent with the durable Raft state: applied index behind the snapshot (the entries in
 *    between are compacted away) or ahead of the durable commit index (the core requires
 *    applied <= commit; the WAL's commit index may lag after power loss).
 * Then the committed entries after the applied index are replayed, so the state machine comes
 * back at exactly `durable.commitIndex`: pass that as RaftConfig.applied.
 */
import { rename } from 'node:fs/promises';
import { CatalogCorruptError, StoreError } from './errors.js';
import { isNotFound } from './fs-atomic.js';
import { snapshotAppliedIndex } from './snapshot-format.js';
import { catalogPath, StateMachine, type LogEntryData, type StateMachineInit } from './state-machine.js';

export interface DurableRaftState {
  /** Index of the latest durable snapshot; 0 if none. */
  readonly snapshotIndex: number;
  /** The durable hard state's commit index. */
  readonly commitIndex: number;
}

export interface RecoveryInit extends StateMachineInit {
  readonly durable: DurableRaftState;
  /** The state machine bytes of the snapshot at `durable.snapshotIndex` (as snapshot() made them), or null if there is none. */
  readonly loadSnapshot: () => Promise<Uint8Array | null>;
  /** Committed entries with index > afterIndex up to durable.commitIndex, in order; empty data for no-ops and membership changes. */
  readonly entriesAfter: (afterIndex: number) => Iterable<LogEntryData> | AsyncIterable<LogEntryData>;
  readonly logger?: { warn(details: object, message: string): void; info(details: object, message: string): void };
}

export type RecoveryAction = { readonly action: 'opened'; readonly replayed: number } | { readonly action: 'rebuilt'; readonly reason: string };

export async function openStateMachine(init: RecoveryInit): Promise<{ stateMachine: StateMachine; recovery: RecoveryAction }> {
  const { durable } = init;
  if (!(durable.snapshotIndex >= 0 && durable.commitIndex >= durable.snapshotIndex)) {
    throw new StoreError('INVALID_ARGUMENT', `durable state is impossible: snapshot ${durable.snapshotIndex}, commit ${durable.commitIndex}`);
  }
  const opened = await tryOpen(init);
  if (opened.stateMachine === null) return rebuild(init, await openAfterSettingAside(init), opened.reason);
  const reason = distrust(opened.stateMachine, durable);
  if (reason !== null) return rebuild(init, opened.stateMachine, reason);
  const before = opened.stateMachine.appliedIndex;
  await replay(opened.stateMachine, init);
  return { stateMachine: opened.stateMachine, recovery: { action: 'opened', replayed: opened.stateMachine.appliedIndex - before } };
}

async function rebuild(init: RecoveryInit, stateMachine: StateMachine, reason: string): Promise<{ stateMachine: StateMachine; recovery: RecoveryAction }> {
  const { durable } = init;
  init.logger?.warn({ reason, durable }, 'rebuilding the catalog from the latest snapshot and the log');
  const snapshot = await loadVerifiedSnapshot(init);
  await stateMachine.rebuild(snapshot, upTo(init.entriesAfter(durable.snapshotIndex), durable.commitIndex));
  assertCaughtUp(stateMachine, durable.commitIndex);
  return { stateMachine, recovery: { action: 'rebuilt', reason } };
}

async function tryOpen(init: RecoveryInit): Promise<{ stateMachine: StateMachine; reason: null } | { stateMachine: null; reason: string }> {
  try {
    return { stateMachine: await StateMachine.open(init), reason: null };
  } catch (error) {
    if (error instanceof CatalogCorruptError) return { stateMachine: null, reason: error.message };
    throw error;
  }
}

/** Why an intact catalog still cannot be used as is; null when it can. */
function distrust(sm: StateMachine, durable: DurableRaftState): string | null {
  if (sm.openedFresh && durable.commitIndex > 0) return 'the catalog file is missing';
  if (sm.appliedIndex < durable.snapshotIndex) return `the catalog's applied index ${sm.appliedIndex} is behind the snapshot at ${durable.snapshotIndex}`;
  if (sm.appliedIndex > durable.commitIndex)
    return `the catalog's applied index ${sm.appliedIndex} is ahead of the durable commit index ${durable.commitIndex}`;
  return null;
}

/** Keeps one copy of the bad catalog for a post-mortem, then starts from an empty one. */
async function openAfterSettingAside(init: RecoveryInit): Promise<StateMachine> {
  const file = catalogPath(init.dataDir);
  await rename(file, `${file}.corrupt`).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  return StateMachine.open(init);
}

async function loadVerifiedSnapshot(init: RecoveryInit): Promise<Uint8Array | null> {
  const { snapshotIndex } = init.durable;
  const snapshot = await init.loadSnapshot();
  if (snapshot === null) {
    if (snapshotIndex > 0) throw new StoreError('INVALID_ARGUMENT', `the durable state names a snapshot at ${snapshotIndex} but loadSnapshot returned none`);
    return null;
  }
  const index = snapshotAppliedIndex(snapshot);
  if (index !== snapshotIndex)
    throw new StoreError('INVALID_ARGUMENT', `loadSnapshot returned a snapshot at ${index}, the durable state says ${snapshotIndex}`);
  return snapshot;
}

async function replay(sm: StateMachine, init: RecoveryInit): Promise<void> {
  for await (const entry of upTo(init.entriesAfter(sm.appliedIndex), init.durable.commitIndex)) await sm.apply(entry.index, entry.data);
  assertCaughtUp(sm, init.durable.commitIndex);
}

/** Entries beyond the durable commit index are not known to be committed: never applied here. */
async function* upTo(entries: Iterable<LogEntryData> | AsyncIterable<LogEntryData>, commitIndex: number): AsyncGenerator<LogEntryData> {
  for await (const entry of entries) {
    if (entry.index > commitIndex) return;
    yield entry;
  }
}

function assertCaughtUp(sm: StateMachine, commitIndex: number): void {
  if (sm.appliedIndex !== commitIndex) {
    throw new StoreError(
      'APPLY_OUT_OF_ORDER',
      `after recovery the applied index is ${sm.appliedIndex}, not the commit index ${commitIndex}: the log is missing committed entries`,
    );
  }
}
