import { MemoryStorage } from '../../memory-storage.js';
import type { ConfState } from '../../types.js';
import type { Args } from './args.js';
import type { Env, LogLevel, NodeOptions } from './env.js';
import { fmtConf, fmtSnap } from './format.js';

/**
 * add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [election-tick=10] [heartbeat-tick=1]
 *   [prevote=true] [checkquorum=true] [max-inflight=N] [max-size=BYTES] [max-uncommitted=BYTES]
 *   [max-apply=BYTES] [seed=S]
 * Adds N nodes with the next free ids. With voters=, they start as members of that
 * configuration: from an empty log, or (index=I) from a snapshot at index I, term 1. Without
 * voters=, a node starts empty, knowing no configuration: a node about to join a cluster.
 */
export function addNodes(env: Env, a: Args): void {
  const [countArg] = a.positional();
  const count = Number(countArg);
  if (!Number.isInteger(count) || count < 1) throw new Error('add-nodes N: N must be a positive integer');
  const opts = nodeOptions(a);
  const voters = a.list('voters');
  const cs: ConfState | null = voters === undefined ? null : { voters, learners: a.list('learners') ?? [] };
  const index = a.int('index', 0);
  const first = env.ids().reduce((max, id) => Math.max(max, Number(id)), 0) + 1;
  env.print(`options: election-tick=${opts.electionTick} heartbeat-tick=${opts.heartbeatTick} prevote=${show(opts.preVote)} checkquorum=${show(opts.checkQuorum)}`);
  for (let id = first; id < first + count; id++) {
    const p = env.addPeer(String(id), initialStorage(cs, index), opts);
    // A bootstrapped node starts with its membership as committed log entries: apply them now
    // (over several Readies if max-apply pages them), as a starting node would first thing.
    env.maybeQuietly(true, () => {
      while (p.node.hasReady()) env.processReady(p.id);
    });
    const st = p.node.status();
    const snap = p.storage.snapshot().metadata;
    const start = snap.index > 0 ? ` snapshot=(index=${snap.index} term=${snap.term})` : '';
    env.print(`${id}: ${cs === null ? 'no configuration (joining)' : fmtConf(st.confState)}${start} last=${st.lastIndex} commit=${st.commit} applied=${st.applied}`);
  }
}

function show(v: boolean | undefined): string {
  return v === undefined ? 'default' : String(v);
}

function nodeOptions(a: Args): NodeOptions {
  return {
    electionTick: a.int('election-tick', 10),
    heartbeatTick: a.int('heartbeat-tick', 1),
    preVote: a.optBool('prevote'),
    checkQuorum: a.optBool('checkquorum'),
    maxInflightMsgs: a.optInt('max-inflight'),
    maxSizePerMsg: a.optInt('max-size'),
    maxUncommittedBytes: a.optInt('max-uncommitted'),
    maxApplyBytes: a.optInt('max-apply'),
    seed: a.optInt('seed'),
  };
}

function initialStorage(cs: ConfState | null, index: number): MemoryStorage {
  const s = new MemoryStorage();
  if (cs === null) return s;
  if (index === 0) s.bootstrap(cs);
  else s.applySnapshot({ metadata: { index, term: 1, confState: cs }, data: new TextEncoder().encode('[]') });
  return s;
}

/** log-level none|warn|info: whether the core's log lines appear in the transcript. */
export function logLevel(env: Env, a: Args): void {
  const [level] = a.positional();
  if (level !== 'none' && level !== 'warn' && level !== 'info') throw new Error('log-level none|warn|info');
  env.logLevel = level as LogLevel;
}

/**
 * crash ID: the node stops; whatever it had not persisted is lost, and so are the messages in
 * flight to it (and any sent to it while it is down). What it already sent stays in flight.
 */
export function crash(env: Env, a: Args): void {
  for (const id of a.positional()) {
    env.peer(id).down = true;
    const lost = env.net.take(id).length;
    if (lost > 0) env.print(`${id}: ${lost} message(s) in flight to it lost`);
  }
}

/**
 * restart ID: rebuilds the node from its storage (works on a live node too: crash + restart).
 * The application's state is durable (as Larder's files are), so it resumes at its applied index.
 */
export function restart(env: Env, a: Args): void {
  for (const id of a.positional()) {
    env.restart(id);
    const st = env.peer(id).node.status();
    env.print(`${id}: restarted term=${st.term} vote=${st.vote ?? '-'} commit=${st.commit} applied=${st.applied} last=${st.lastIndex}`);
  }
}

/** compact ID INDEX: snapshot the application at INDEX (<= applied) and drop the log up to it. */
export function compact(env: Env, a: Args): void {
  const [id, raw] = a.positional();
  if (id === undefined || raw === undefined) throw new Error('compact ID INDEX');
  snapshotAndCompact(env, id, Number(raw));
}

/** snapshot ID: compact at the applied index. */
export function snapshot(env: Env, a: Args): void {
  for (const id of a.positional()) snapshotAndCompact(env, id, env.peer(id).app.applied);
}

function snapshotAndCompact(env: Env, id: string, index: number): void {
  const p = env.peer(id);
  if (index > p.app.applied) throw new Error(`${id} has applied only up to ${p.app.applied}`);
  const snap = p.storage.createSnapshot(index, p.app.confState(index), p.app.encode(index));
  p.storage.compact(index);
  env.print(`${id}: snapshot=${fmtSnap(snap)}; log now starts at ${p.storage.firstIndex()}`);
}
