import { ProposalDroppedError } from '../../errors.js';
import type { ConfChange } from '../../types.js';
import type { Args } from './args.js';
import type { Env } from './env.js';

const encoder = new TextEncoder();

/** Runs a client call; a refusal is an expected outcome, returned as the line to print. */
function refusal(f: () => void): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (!(e instanceof ProposalDroppedError)) throw e;
    return `refused: ${e.reason} (leader hint: ${e.leaderHint ?? '-'})`;
  }
}

function attempt(env: Env, f: () => void): void {
  const refused = refusal(f);
  if (refused !== null) env.print(refused);
}

function idAndRest(a: Args, usage: string): [string, string[]] {
  const [id, ...rest] = a.positional();
  if (id === undefined) throw new Error(usage);
  return [id, rest];
}

/** campaign ID: the node starts an election now (a pre-election if pre-vote is on). */
export function campaign(env: Env, a: Args): void {
  for (const id of a.positional()) env.peer(id).node.campaign();
}

/** propose ID DATA... [count=N]: one proposal per payload; with count=N, DATA1..DATAN. */
export function propose(env: Env, a: Args): void {
  const [id, data] = idAndRest(a, 'propose ID DATA...');
  const count = a.optInt('count');
  const payloads = count === undefined ? data : data.flatMap((d) => Array.from({ length: count }, (_, i) => `${d}${i + 1}`));
  const node = env.peer(id).node;
  const indexes: number[] = [];
  let refused: string | null = null;
  for (const d of payloads) {
    refused = refusal(() => indexes.push(node.propose(encoder.encode(d)).index));
    if (refused !== null) break;
  }
  if (indexes.length > 0) {
    const range = indexes.length === 1 ? `${indexes[0]}` : `${indexes[0]}..${indexes[indexes.length - 1]}`;
    env.print(`proposed at index ${range}`);
  }
  if (refused !== null) env.print(refused);
}

/** propose-conf-change ID add-voter|add-learner|remove NODE */
export function proposeConfChange(env: Env, a: Args): void {
  const [id, [verb, node]] = idAndRest(a, 'propose-conf-change ID add-voter|add-learner|remove NODE');
  if (node === undefined) throw new Error('propose-conf-change ID add-voter|add-learner|remove NODE');
  const types: Record<string, ConfChange['type']> = { 'add-voter': 'addVoter', 'add-learner': 'addLearner', remove: 'removeNode' };
  const type = verb === undefined ? undefined : types[verb];
  if (type === undefined) throw new Error(`unknown change ${verb}`);
  attempt(env, () => env.print(`proposed at index ${env.peer(id).node.proposeConfChange({ type, node }).index}`));
}

/** transfer-leadership from=ID to=ID */
export function transferLeadership(env: Env, a: Args): void {
  const node = env.peer(a.str('from')).node;
  attempt(env, () => node.transferLeadership(a.str('to')));
}

/** read-index ID CTX: ask for a linearizable read point, answered later as a read state. */
export function readIndex(env: Env, a: Args): void {
  const [id, [ctx]] = idAndRest(a, 'read-index ID CTX');
  if (ctx === undefined) throw new Error('read-index ID CTX');
  attempt(env, () => env.peer(id).node.readIndex(ctx));
}

/** tick ID... [n=1] */
export function tick(env: Env, a: Args): void {
  tickEach(env, a.positional(), () => a.int('n', 1));
}

/** tick-election ID...: as many ticks as an election timeout (exact with the default random). */
export function tickElection(env: Env, a: Args): void {
  tickEach(env, a.positional(), (id) => env.peer(id).opts.electionTick);
}

/** tick-heartbeat ID...: as many ticks as a heartbeat interval. */
export function tickHeartbeat(env: Env, a: Args): void {
  tickEach(env, a.positional(), (id) => env.peer(id).opts.heartbeatTick);
}

function tickEach(env: Env, ids: readonly string[], times: (id: string) => number): void {
  for (const id of ids) {
    const p = env.peer(id);
    if (p.down) {
      env.print(`${id} is down`);
      continue;
    }
    for (let i = times(id); i > 0; i--) p.node.tick();
  }
}

/** report-unreachable ID PEER: the transport of ID could not reach PEER. */
export function reportUnreachable(env: Env, a: Args): void {
  const [id, [peer]] = idAndRest(a, 'report-unreachable ID PEER');
  if (peer === undefined) throw new Error('report-unreachable ID PEER');
  env.peer(id).node.reportUnreachable(peer);
}

/** report-snapshot ID PEER [ok=true]: the transport of ID finished sending PEER a snapshot. */
export function reportSnapshot(env: Env, a: Args): void {
  const [id, [peer]] = idAndRest(a, 'report-snapshot ID PEER');
  if (peer === undefined) throw new Error('report-snapshot ID PEER');
  env.peer(id).node.reportSnapshot(peer, a.bool('ok', true));
}
