import type { Args } from './args.js';
import type { Env } from './env.js';
import { fmtConf, fmtEntry } from './format.js';

function idsOrAll(env: Env, a: Args): string[] {
  const ids = a.positional();
  return ids.length > 0 ? ids : env.ids();
}

function stateLine(env: Env, id: string): string {
  const p = env.peer(id);
  const s = p.node.status();
  const down = p.down ? ' (down)' : '';
  return `${id}: ${s.role} term=${s.term} vote=${s.vote ?? '-'} lead=${s.lead ?? '-'} last=${s.lastIndex} commit=${s.commit} applied=${s.applied}${down}`;
}

/** raft-state [ID...]: role, term, vote, leader, last index, commit and applied of each node. */
export function raftState(env: Env, a: Args): void {
  for (const id of idsOrAll(env, a)) env.print(stateLine(env, id));
}

/** raft-log ID: the persisted log (after the snapshot), then any entries not yet persisted. */
export function raftLog(env: Env, a: Args): void {
  for (const id of a.positional()) {
    const p = env.peer(id);
    const s = p.storage;
    if (a.positional().length > 1) env.print(`${id}:`);
    const snap = s.snapshot().metadata;
    if (snap.index > 0) env.print(`snapshot (index=${snap.index} term=${snap.term})`);
    const ents = s.lastIndex() >= s.firstIndex() ? s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
    for (const e of ents) env.print(fmtEntry(e));
    for (const e of p.node.raft.log.unstable.entries) env.print(`${fmtEntry(e)} (unstable)`);
    if (snap.index === 0 && ents.length === 0 && p.node.raft.log.unstable.entries.length === 0) env.print('empty log');
  }
}

/** status ID: the node's state, membership and, on a leader, every member's progress. */
export function status(env: Env, a: Args): void {
  for (const id of idsOrAll(env, a)) {
    const s = env.peer(id).node.status();
    env.print(stateLine(env, id));
    env.print(`config: ${fmtConf(s.confState)}${s.leadTransferee !== null ? ` transferring-to=${s.leadTransferee}` : ''}`);
    for (const [peer, pr] of Object.entries(s.progress ?? {})) {
      const flags = [pr.isLearner ? ' learner' : '', pr.recentActive ? ' active' : ''].join('');
      env.print(`  ${peer}: ${pr.state} match=${pr.match} next=${pr.next} inflight=${pr.inflight}${flags}`);
    }
  }
}

/** app-state ID...: what each node's application has applied. */
export function appState(env: Env, a: Args): void {
  for (const id of idsOrAll(env, a)) {
    const app = env.peer(id).app;
    env.print(`${id}: applied=${app.applied} values=[${app.list().join(' ')}] ${fmtConf(app.confState())}`);
  }
}
