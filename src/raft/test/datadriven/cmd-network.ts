import type { Message } from '../../types.js';
import type { Args } from './args.js';
import type { Env } from './env.js';
import { fmtMsg, kebab } from './format.js';

/** process-ready ID...: handle one Ready of each node (persist, send, apply, advance). */
export function processReady(env: Env, a: Args): void {
  const ids = a.positional();
  env.maybeQuietly(a.bool('quiet', false), () => {
    for (const id of ids) {
      if (ids.length === 1) env.processReady(id);
      else env.section(`> ${id} handling Ready`, () => env.processReady(id));
    }
  });
}

/** Which queued messages a command selects: type=(app,heartbeat) and from=ID narrow it down. */
function selector(a: Args): (m: Message) => boolean {
  const types = a.list('type');
  const from = a.list('from');
  return (m) => (types === undefined || types.includes(kebab(m.type))) && (from === undefined || from.includes(m.from));
}

/**
 * deliver-msgs ID... [type=(..)] [from=(..)] [drop=(ID,..)]: deliver the queued messages
 * addressed to each ID, in send order; messages to the drop= ids are discarded instead.
 */
export function deliverMsgs(env: Env, a: Args): void {
  const keep = selector(a);
  if (a.positional().length === 0 && !a.has('drop')) throw new Error('deliver-msgs ID... or drop=(ID,..)');
  env.maybeQuietly(a.bool('quiet', false), () => {
    for (const id of a.list('drop') ?? []) {
      for (const m of env.net.take(id, keep)) env.print(`${fmtMsg(m)} (dropped)`);
    }
    for (const id of a.positional()) env.deliver(env.net.take(id, keep));
  });
}

/**
 * dup-msgs ID [type=..] [stash=true]: the network duplicates the queued messages to ID. The
 * copies go last in the queue, or with stash=true into the stash (delivered much later).
 */
export function dupMsgs(env: Env, a: Args): void {
  const keep = selector(a);
  const toStash = a.bool('stash', false);
  for (const id of a.positional()) {
    const copies = env.net.queue.filter((m) => m.to === id && keep(m)).map((m) => ({ ...m }));
    (toStash ? env.net.stash : env.net.queue).push(...copies);
    for (const m of copies) env.print(`duplicated ${fmtMsg(m)}${toStash ? ' (stashed)' : ''}`);
  }
}

/** stash-msgs ID [type=..]: hold the queued messages to ID back (delayed in the network). */
export function stashMsgs(env: Env, a: Args): void {
  for (const id of a.positional()) {
    const held = env.net.take(id, selector(a));
    env.net.stash.push(...held);
    for (const m of held) env.print(`stashed ${fmtMsg(m)}`);
  }
}

/** unstash-msgs: the delayed messages arrive after everything queued meanwhile (reordering). */
export function unstashMsgs(env: Env): void {
  for (const m of env.net.stash) env.print(`re-queued ${fmtMsg(m)}`);
  env.net.queue.push(...env.net.stash);
  env.net.stash = [];
}

/** msgs: print the messages in flight. */
export function msgs(env: Env): void {
  if (env.net.queue.length === 0 && env.net.stash.length === 0) env.print('no messages');
  for (const m of env.net.queue) env.print(fmtMsg(m));
  for (const m of env.net.stash) env.print(`${fmtMsg(m)} (stashed)`);
}

/** stabilize [ID...] [quiet=true]: process Readies and deliver messages among the ids until quiet. */
export function stabilize(env: Env, a: Args): void {
  const ids = a.positional();
  env.maybeQuietly(a.bool('quiet', false), () => env.stabilize(ids.length > 0 ? ids : env.ids()));
}

/**
 * elapse ticks=N [until=leader] [quiet=true]: N rounds of (tick every live node, then stabilize). With
 * until=leader it stops after the round in which a leader appeared. Quiet rounds print nothing.
 */
export function elapse(env: Env, a: Args): void {
  const ticks = a.int('ticks');
  const untilLeader = a.str('until', '') === 'leader';
  const quiet = a.bool('quiet', false);
  for (let t = 1; t <= ticks; t++) {
    env.maybeQuietly(quiet, () =>
      env.section(`tick ${t}`, () => {
        for (const id of env.upIds()) env.peer(id).node.tick();
        env.stabilize(env.ids());
      }),
    );
    const leader = env.upIds().find((id) => env.peer(id).node.status().role === 'leader');
    if (untilLeader && leader !== undefined) {
      env.print(`${leader} is leader after ${t} ticks`);
      return;
    }
  }
  if (untilLeader) env.print(`no leader after ${ticks} ticks`);
}

/** partition (1,2) (3): only nodes within a group hear each other; unlisted nodes form one more group. */
export function partition(env: Env, a: Args): void {
  const groups = a.positional().map((g) => g.replace(/[()]/g, '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  const listed = new Set(groups.flat());
  const rest = env.ids().filter((id) => !listed.has(id));
  if (rest.length > 0) groups.push(rest);
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
  env.net.heal();
  for (const x of env.ids()) for (const y of env.ids()) if (groupOf.get(x) !== groupOf.get(y)) env.net.cut(x, y);
  env.print(`partitioned: ${groups.map((g) => `(${g.join(',')})`).join(' ')}`);
}

/** isolate ID: cut ID off from everyone, both ways (adds to existing cuts). */
export function isolate(env: Env, a: Args): void {
  for (const id of a.positional()) {
    for (const other of env.ids()) {
      if (other === id) continue;
      env.net.cut(id, other);
      env.net.cut(other, id);
    }
  }
}

/** drop from=(ID,..) to=(ID,..) [type=(app,..)]: a one-way cut, of some message types only if type= is given. */
export function drop(env: Env, a: Args): void {
  const types = a.list('type');
  for (const from of a.list('from') ?? []) for (const to of a.list('to') ?? []) env.net.cut(from, to, types);
}

/** heal: remove every cut. */
export function heal(env: Env): void {
  env.net.heal();
}
