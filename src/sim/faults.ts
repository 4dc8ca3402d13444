import type { NodeId } from '../raft/index.js';
import type { Simulation } from './simulation.js';

/**
 * The fault injector: at random moments it partitions (symmetrically or one way), heals,
 * crashes and restarts nodes, degrades links (loss up to 30 %, duplication, delay), transfers
 * leadership and changes membership, all drawn from the simulation's seed.
 */
export function injectFault(sim: Simulation): void {
  if (sim.params.profile === 'churn') churn(sim);
  else mixed(sim);
  stopRemovedNodes(sim);
  sim.trace(`network: ${sim.network.describe()}`);
}

function mixed(sim: Simulation): void {
  const roll = sim.rand.float();
  if (roll < 0.16) partitionRandomly(sim);
  else if (roll < 0.26) isolateLeader(sim);
  else if (roll < 0.34) cutOneWay(sim);
  else if (roll < 0.46) sim.network.heal();
  else if (roll < 0.6) crashOne(sim);
  else if (roll < 0.74) degradeLinks(sim);
  else if (roll < 0.82) transferLeadership(sim);
  else changeMembership(sim);
}

/**
 * Leader churn: leaders cut off (alone, or with one follower that keeps taking their entries)
 * or killed soon after they win, with quick heals, so uncommitted tails of several terms pile
 * up on different minorities, as in the paper's Figure 8.
 */
function churn(sim: Simulation): void {
  const roll = sim.rand.float();
  if (roll < 0.2) isolateLeader(sim);
  else if (roll < 0.4) isolateLeaderWithOne(sim);
  else if (roll < 0.6) sim.network.heal();
  else if (roll < 0.8) crashLeader(sim);
  else if (roll < 0.9) degradeLinks(sim);
  else partitionRandomly(sim);
}

function isolateLeaderWithOne(sim: Simulation): void {
  const leader = sim.leader();
  if (!leader) return;
  const others = sim.rand.shuffle(memberIds(sim).filter((id) => id !== leader.id));
  sim.network.heal();
  sim.network.partition([[leader.id, ...others.slice(0, 1)], others.slice(1)]);
  sim.stats.partitions++;
}

function crashLeader(sim: Simulation): void {
  const leader = sim.leader();
  if (!leader) return;
  sim.crash(leader);
  sim.scheduleRestart(leader, sim.rand.range(30, 300));
}

function memberIds(sim: Simulation): NodeId[] {
  return [...sim.nodes.values()].filter((n) => !n.removed).map((n) => n.id);
}

function partitionRandomly(sim: Simulation): void {
  const ids = sim.rand.shuffle(memberIds(sim));
  const cut = sim.rand.range(1, Math.max(1, ids.length - 1));
  sim.network.heal();
  sim.network.partition([ids.slice(0, cut), ids.slice(cut)]);
  sim.stats.partitions++;
}

function isolateLeader(sim: Simulation): void {
  const leader = sim.leader();
  if (!leader) return;
  const rest = memberIds(sim).filter((id) => id !== leader.id);
  sim.network.heal();
  sim.network.partition([[leader.id], rest]);
  sim.stats.partitions++;
}

/** Asymmetric partitions: some links carry traffic one way only. */
function cutOneWay(sim: Simulation): void {
  const ids = memberIds(sim);
  const cuts = sim.rand.range(1, 3);
  for (let i = 0; i < cuts; i++) {
    const from = sim.rand.pick(ids);
    const to = sim.rand.pick(ids);
    if (from !== to) sim.network.cutOneWay(from, to);
  }
  sim.stats.partitions++;
}

function crashOne(sim: Simulation): void {
  const live = sim.liveMembers();
  if (live.length === 0) return;
  const leader = sim.leader();
  const victim = leader && sim.rand.chance(0.4) ? leader : sim.rand.pick(live);
  sim.crash(victim);
  sim.scheduleRestart(victim, sim.rand.range(50, 1500));
}

function degradeLinks(sim: Simulation): void {
  const r = sim.rand;
  const maxDelay = r.pick([1, 5, 15, 40]);
  sim.network.conditions = {
    dropRate: r.pick([0, 0.05, 0.15, 0.3]),
    dupRate: r.pick([0, 0.05, 0.2]),
    minDelay: 1,
    maxDelay,
  };
}

function transferLeadership(sim: Simulation): void {
  sim.tryLeaderAction((leader) => {
    const voters = leader.mustRaft().status().confState.voters.filter((v) => v !== leader.id);
    if (voters.length === 0) return;
    leader.mustRaft().transferLeadership(sim.rand.pick(voters));
    sim.stats.transfers++;
  });
}

/** Add a fresh learner, promote a caught-up learner, or remove a voter (maybe the leader). */
function changeMembership(sim: Simulation): void {
  const leader = sim.leader();
  if (!leader) return;
  const st = leader.mustRaft().status();
  const caughtUp = st.confState.learners.filter((l) => (st.progress?.[l]?.match ?? 0) >= st.lastIndex - 2);
  const maxNodes = sim.params.nodes + 2;
  let changed = false;
  if (caughtUp.length > 0 && sim.rand.chance(0.7)) {
    changed = sim.tryLeaderAction((l) => l.mustRaft().proposeConfChange({ type: 'addVoter', node: caughtUp[0]! }));
  } else if (st.confState.voters.length > 2 && sim.rand.chance(0.5)) {
    const victim = sim.rand.pick(st.confState.voters);
    changed = sim.tryLeaderAction((l) => l.mustRaft().proposeConfChange({ type: 'removeNode', node: victim }));
    if (changed) sim.removing.add(victim);
  } else if (sim.nodes.size < maxNodes) {
    const id = sim.freshNodeId();
    changed = sim.tryLeaderAction((l) => l.mustRaft().proposeConfChange({ type: 'addLearner', node: id }));
    if (changed) sim.addNode(id, []);
  }
  if (changed) sim.stats.confChanges++;
  sim.trace(`membership change proposed: ${changed}`);
}

/**
 * A node whose removal some leader has applied (so it is committed) is shut down for good, as an
 * operator would; ids are never reused.
 */
export function stopRemovedNodes(sim: Simulation): void {
  for (const n of sim.liveMembers()) {
    if (!n.alive) continue; // Stopped earlier in this loop.
    const st = n.mustRaft().status();
    if (st.role !== 'leader') continue;
    const members = new Set([...st.confState.voters, ...st.confState.learners]);
    for (const id of sim.removing) {
      const node = sim.nodes.get(id);
      if (!node || node.removed || members.has(id)) continue;
      sim.trace(`stop removed node ${id}`);
      sim.crash(node);
      node.removed = true;
    }
  }
}
