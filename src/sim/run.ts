import { checkLinearizable, type CheckResult } from './linearizability/index.js';
import { Violation } from './checkers.js';
import { injectFault } from './faults.js';
import { encodeCommand } from './kv.js';
import type { VariantName } from './mutants.js';
import { Simulation, unitsPerTick, type SimParams, type SimProfile, type SimStats } from './simulation.js';

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly variant: VariantName;
  readonly ok: boolean;
  readonly violation: { readonly kind: string; readonly detail: string } | null;
  /** 'unknown' when the linearizability search ran out of budget (reported, never counted as ok). */
  readonly linearizable: boolean | 'unknown';
  readonly ops: { ok: number; unknown: number; failed: number };
  readonly stats: SimStats;
  readonly config: string;
  readonly replay: string;
  readonly trace: readonly string[];
}

export const defaultParams: Omit<SimParams, 'seed'> = {
  nodes: 3,
  variant: 'correct',
  clients: 3,
  keys: 3,
  faultUntil: 3000,
  healLeaderTicks: 100,
  healSettleUnits: 6000,
  trace: false,
  profile: 'mixed',
};

export function replayCommand(seed: number, nodes: number, variant: VariantName, profile: SimProfile): string {
  const extra = `${variant === 'correct' ? '' : ` --variant ${variant}`}${profile === 'mixed' ? '' : ` --profile ${profile}`}`;
  return `npm run sim -- --seed ${seed} --nodes ${nodes}${extra} --trace`;
}

/** One seed: faults, then heal and check liveness, then check the client history. */
export function runSeed(p: Partial<SimParams> & { seed: number }): SimResult {
  const params: SimParams = { ...defaultParams, ...p };
  const sim = new Simulation(params);
  sim.onFaultHook = () => injectFault(sim);
  let violation: Violation | null = null;
  let lin: CheckResult | null = null;
  try {
    sim.runUntil(params.faultUntil);
    heal(sim);
    awaitLeader(sim);
    settle(sim);
    lin = checkLinearizable(sim.history.operations());
    if (lin.ok === false) violation = new Violation('linearizability', lin.explanation);
  } catch (e) {
    if (!(e instanceof Violation)) throw e;
    violation = e;
  }
  return {
    seed: params.seed,
    nodes: params.nodes,
    variant: params.variant,
    ok: violation === null,
    violation: violation ? { kind: violation.kind, detail: violation.detail } : null,
    linearizable: lin === null ? false : lin.ok === true ? true : lin.ok === 'unknown' ? 'unknown' : false,
    ops: sim.history.counts(),
    stats: sim.stats,
    config: sim.describeConfig(),
    replay: replayCommand(params.seed, params.nodes, params.variant, params.profile),
    trace: sim.traceLines,
  };
}

/** Faults end: links become reliable, partitions heal, every crashed member restarts. */
function heal(sim: Simulation): void {
  sim.healed = true;
  sim.network.heal();
  sim.network.conditions = { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 5 };
  for (const n of sim.nodes.values()) sim.restart(n);
  sim.trace('healed');
}

/** Within a bounded number of ticks a leader must exist and commit an entry of its term. */
function awaitLeader(sim: Simulation): void {
  const start = sim.now;
  const deadline = start + sim.params.healLeaderTicks * unitsPerTick;
  const elected = sim.runUntil(deadline, () => {
    const l = sim.leader();
    if (!l) return false;
    const core = l.core();
    return core.log.term(core.log.committed) === core.term;
  });
  sim.errorIfNot(elected, 'liveness', () => `no leader committed in its term within ${sim.params.healLeaderTicks} ticks after healing: ${describeMembers(sim)}`);
  sim.stats.ticksToLeaderAfterHeal = Math.round((sim.now - start) / unitsPerTick);
}

/**
 * Clients stop; the leader proposes barrier writes until every member has resolved every pending
 * proposal (applied or definitively superseded) and all members hold the same state.
 */
function settle(sim: Simulation): void {
  sim.clientsStopped = true;
  const deadline = sim.now + sim.params.healSettleUnits;
  const barrierEvery = 30;
  let settled = false;
  while (!settled && sim.now < deadline) {
    sim.tryLeaderAction((l) => l.mustRaft().propose(encodeCommand({ opId: 0, op: { kind: 'put', key: '_barrier', value: String(sim.now) } })));
    settled = sim.runUntil(sim.now + barrierEvery, () => converged(sim));
  }
  sim.errorIfNot(settled, 'liveness', () => `not settled ${sim.params.healSettleUnits} units after healing: ${describeMembers(sim)}`);
}

function members(sim: Simulation): string[] {
  const l = sim.leader();
  if (!l) return [];
  const cs = l.mustRaft().status().confState;
  return [...cs.voters, ...cs.learners];
}

function converged(sim: Simulation): boolean {
  const leader = sim.leader();
  if (!leader) return false;
  const commit = leader.mustRaft().status().commit;
  let digest: string | null = null;
  for (const id of members(sim)) {
    const n = sim.nodes.get(id);
    if (!n?.alive || n.inflight || n.proposals.size > 0) return false;
    if (n.mustRaft().status().applied !== commit) return false;
  }
  for (const id of members(sim)) {
    const d = sim.nodes.get(id)!.kv.digest();
    if (digest !== null && d !== digest) throw new Violation('divergence', `${id} applied up to ${commit} but its state differs: ${d} vs ${digest}`);
    digest = d;
  }
  return true;
}

function describeMembers(sim: Simulation): string {
  return [...sim.nodes.values()]
    .map((n) => {
      if (!n.alive) return `${n.id}:${n.removed ? 'removed' : 'down'}`;
      const st = n.mustRaft().status();
      const pending = [...n.proposals.values()].map((p) => `#${p.opId}@${p.index}/${p.term}`).join(',');
      return `${n.id}:${st.role}/t${st.term}/c${st.commit}/a${st.applied}/first${st.firstIndex}${pending ? `/pending[${pending}]` : ''}`;
    })
    .join(' ');
}
