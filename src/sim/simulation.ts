import { InvariantError, ProposalDroppedError, type Message, type NodeId, type RaftConfig, type Ready } from '../raft/index.js';
import { SafetyChecker, Violation } from './checkers.js';
import { History, nextOp } from './clients.js';
import { EventQueue } from './event-queue.js';
import { formatMessage, formatReady } from './format.js';
import { encodeCommand } from './kv.js';
import { variants, type VariantName } from './mutants.js';
import { Network } from './network.js';
import { SimRandom } from './random.js';
import { SimNode, type ClientOutcome } from './sim-node.js';

/** Time in the simulation is counted in abstract units; a node ticks about every 10. */
export const unitsPerTick = 10;

export interface SimParams {
  readonly seed: number;
  readonly nodes: number;
  readonly variant: VariantName;
  readonly clients: number;
  readonly keys: number;
  /** Faults are injected until this time, then the network heals and every node restarts. */
  readonly faultUntil: number;
  /** After healing: the bound, in ticks, for electing a leader that commits in its term. */
  readonly healLeaderTicks: number;
  /** After healing: the bound, in time units, for every pending proposal to resolve. */
  readonly healSettleUnits: number;
  readonly trace: boolean;
  /**
   * 'mixed': every kind of fault, at a moderate rate. 'churn': leaders isolated, crashed and
   * healed in quick succession with one-entry messages, the conditions of the paper's Figure 8.
   */
  readonly profile: SimProfile;
}

export type SimProfile = 'mixed' | 'churn';

type SimEvent =
  | { readonly kind: 'tick'; readonly node: NodeId; readonly inc: number }
  | { readonly kind: 'persist'; readonly node: NodeId; readonly inc: number }
  | { readonly kind: 'deliver'; readonly msg: Message }
  | { readonly kind: 'client'; readonly client: number }
  | { readonly kind: 'timeout'; readonly client: number; readonly opId: number }
  | { readonly kind: 'fault' }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'crash'; readonly node: NodeId; readonly inc: number };

interface ClientState {
  readonly id: number;
  waiting: number | null;
  leaderHint: NodeId | null;
  seq: number;
  readonly lastSeen: Map<string, string | null>;
}

export interface SimStats {
  elections: number;
  committedEntries: number;
  delivered: number;
  dropped: number;
  crashes: number;
  partitions: number;
  transfers: number;
  confChanges: number;
  snapshotsSent: number;
  ticksToLeaderAfterHeal: number;
}

/**
 * One deterministic run of a cluster under faults. Everything (timings, faults, client
 * operations, the cores' election timeouts) is drawn from one seed, so a run replays exactly.
 */
export class Simulation {
  readonly rand: SimRandom;
  readonly checker = new SafetyChecker();
  readonly network = new Network();
  readonly history = new History();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly queue = new EventQueue<SimEvent>();
  readonly clients: ClientState[] = [];
  readonly stats: SimStats = { elections: 0, committedEntries: 0, delivered: 0, dropped: 0, crashes: 0, partitions: 0, transfers: 0, confChanges: 0, snapshotsSent: 0, ticksToLeaderAfterHeal: -1 };
  readonly traceLines: string[] = [];
  now = 0;
  healed = false;
  /** Nodes whose removal was proposed; stopped once a leader has applied it. */
  readonly removing = new Set<NodeId>();
  clientsStopped = false;
  private readonly tickUnits = new Map<NodeId, number>();
  private readonly leadersChecked = new Set<string>();
  private readonly raftConfig: Omit<RaftConfig, 'id' | 'storage' | 'applied'>;
  private readonly snapshotEvery: number;
  private readonly keepEntries: number;
  private nextNodeNumber: number;

  constructor(readonly params: SimParams) {
    this.rand = new SimRandom(params.seed);
    const coreRand = this.rand.fork(1);
    this.raftConfig = {
      electionTick: 10,
      heartbeatTick: 1,
      randomInt: (n) => coreRand.int(n),
      preVote: this.rand.chance(0.8),
      checkQuorum: this.rand.chance(0.8),
      maxSizePerMsg: params.profile === 'churn' ? 1 : this.rand.pick([1, 600, 1 << 20]),
      maxInflightMsgs: params.profile === 'churn' ? 1 : this.rand.pick([1, 4, 64]),
    };
    this.snapshotEvery = this.rand.pick([4, 16, 64, 1_000_000]);
    this.keepEntries = this.rand.pick([0, 3, 30]);
    this.nextNodeNumber = params.nodes + 1;
    const voters = Array.from({ length: params.nodes }, (_, i) => `n${i + 1}`);
    for (const id of voters) this.addNode(id, voters);
    for (let c = 0; c < params.clients; c++) {
      this.clients.push({ id: c, waiting: null, leaderHint: null, seq: 0, lastSeen: new Map() });
      this.queue.push(this.rand.range(50, 150), { kind: 'client', client: c });
    }
    this.queue.push(this.rand.range(100, 300), { kind: 'fault' });
  }

  describeConfig(): string {
    const c = this.raftConfig;
    return `preVote=${c.preVote} checkQuorum=${c.checkQuorum} maxSizePerMsg=${c.maxSizePerMsg} maxInflight=${c.maxInflightMsgs} snapshotEvery=${this.snapshotEvery} keepEntries=${this.keepEntries}`;
  }

  trace(line: string): void {
    if (this.params.trace) this.traceLines.push(`${String(this.now).padStart(6)} ${line}`);
  }

  // ---- Nodes --------------------------------------------------------------------------------

  addNode(id: NodeId, voters: readonly NodeId[]): SimNode {
    const node = new SimNode({
      id,
      raftConfig: this.raftConfig,
      createRaft: variants[this.params.variant],
      checker: this.checker,
      snapshotEvery: this.snapshotEvery,
      keepEntries: this.keepEntries,
    });
    this.nodes.set(id, node);
    // Clock skew: each node's ticks run up to a third faster or slower than nominal.
    this.tickUnits.set(id, Math.round(unitsPerTick * (0.75 + this.rand.float() * 0.58)));
    node.bootstrap({ voters, learners: [] });
    this.scheduleTick(node);
    return node;
  }

  freshNodeId(): NodeId {
    return `n${this.nextNodeNumber++}`;
  }

  private scheduleTick(node: SimNode): void {
    this.queue.push(this.now + this.tickUnits.get(node.id)!, { kind: 'tick', node: node.id, inc: node.incarnation });
  }

  crash(node: SimNode): void {
    if (!node.alive) return;
    // Clients waiting on this node time out: their operations' outcome is unknown.
    this.trace(`crash ${node.id}`);
    node.crash();
    this.stats.crashes++;
  }

  restart(node: SimNode): void {
    if (node.alive || node.removed) return;
    this.trace(`restart ${node.id}`);
    node.start();
    this.scheduleTick(node);
    this.afterActivity(node);
  }

  liveMembers(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && !n.removed);
  }

  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.liveMembers()) {
      const st = n.mustRaft().status();
      if (st.role === 'leader' && (best === null || st.term > best.mustRaft().status().term)) best = n;
    }
    return best;
  }

  // ---- The event loop -----------------------------------------------------------------------

  /** Runs events until `until` (a time) or until `done()` holds. Throws Violation. */
  runUntil(until: number, done: () => boolean = () => false): boolean {
    while (this.queue.size > 0) {
      const t = this.queue.peekTime()!;
      if (t > until) break;
      const ev = this.queue.pop()!;
      this.now = ev.time;
      this.guard(() => this.handle(ev.item));
      if (done()) return true;
    }
    this.now = Math.max(this.now, until);
    return done();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof Violation) throw e;
      if (e instanceof InvariantError) throw new Violation('invariant', e.message);
      throw e;
    }
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick':
        return this.onTick(ev.node, ev.inc);
      case 'persist':
        return this.onPersist(ev.node, ev.inc);
      case 'deliver':
        return this.onDeliver(ev.msg);
      case 'client':
        return this.onClient(ev.client);
      case 'timeout':
        return this.onTimeout(ev.client, ev.opId);
      case 'fault':
        return this.onFault();
      case 'crash': {
        const node = this.nodes.get(ev.node);
        if (node && node.incarnation === ev.inc && !this.healed) {
          this.crash(node);
          this.scheduleRestart(node, this.rand.range(30, 300));
        }
        return;
      }
      case 'restart': {
        const node = this.nodes.get(ev.node);
        if (node && !this.healed) this.restart(node);
        return;
      }
    }
  }

  private onTick(id: NodeId, inc: number): void {
    const node = this.nodes.get(id)!;
    if (!node.alive || node.incarnation !== inc) return;
    node.mustRaft().tick();
    this.scheduleTick(node);
    this.afterActivity(node);
  }

  /** Checks what every event may have changed, and starts persisting a new Ready if any. */
  afterActivity(node: SimNode): void {
    if (!node.alive) return;
    const core = node.core();
    this.checker.observeRole(node.id, core.term, core.role);
    if (core.role === 'leader') {
      const key = `${node.id}@${core.term}`;
      if (!this.leadersChecked.has(key)) {
        this.leadersChecked.add(key);
        this.stats.elections++;
        this.trace(`${node.id} leads term ${core.term}`);
        this.checker.checkLeaderCompleteness(node.id, core);
        // Churn: some leaders die while still bringing followers up to date (Figure 8).
        if (this.params.profile === 'churn' && !this.healed && this.rand.chance(0.3)) {
          this.queue.push(this.now + this.rand.range(2, 40), { kind: 'crash', node: node.id, inc: node.incarnation });
        }
      }
    }
    const rn = node.mustRaft();
    if (node.inflight || !rn.hasReady()) return;
    node.inflight = rn.ready();
    // The simulated fsync takes 0-3 units; the node keeps receiving messages meanwhile.
    this.queue.push(this.now + this.rand.range(0, 3), { kind: 'persist', node: node.id, inc: node.incarnation });
  }

  private onPersist(id: NodeId, inc: number): void {
    const node = this.nodes.get(id)!;
    if (!node.alive || node.incarnation !== inc || !node.inflight) return;
    const rd: Ready = node.inflight;
    if (this.params.trace) this.trace(`${node.id} ready ${formatReady(rd)}`);
    const outcomes = node.persist(rd);
    for (const m of rd.messages) this.send(m);
    outcomes.push(...node.apply(rd));
    for (const rs of rd.readStates) {
      const r = node.reads.get(rs.context);
      if (!r) continue;
      if (rs.index < 0) {
        node.reads.delete(rs.context);
        outcomes.push({ opId: r.opId, failed: 'read refused' });
      } else r.index = rs.index;
    }
    node.inflight = null;
    node.mustRaft().advance(rd);
    outcomes.push(...node.serveReads());
    for (const o of outcomes) this.resolve(o);
    node.maybeSnapshot();
    this.afterActivity(node);
  }

  // ---- The network --------------------------------------------------------------------------

  private send(m: Message): void {
    const delays = this.network.plan(this.rand);
    if (delays.length === 0) {
      this.stats.dropped++;
      this.onLost(m);
    }
    for (const d of delays) this.queue.push(this.now + d, { kind: 'deliver', msg: m });
  }

  /** What a real transport learns when a message cannot be delivered. */
  private onLost(m: Message): void {
    const sender = this.nodes.get(m.from);
    if (!sender?.alive) return;
    if (m.type === 'snap') sender.mustRaft().reportSnapshot(m.to, false);
    else if (this.rand.chance(0.2)) sender.mustRaft().reportUnreachable(m.to);
  }

  private onDeliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to?.alive || this.network.isBlocked(m.from, m.to)) {
      this.stats.dropped++;
      this.onLost(m);
      return;
    }
    this.stats.delivered++;
    if (this.params.trace && m.type !== 'heartbeat' && m.type !== 'heartbeatResp') this.trace(formatMessage(m));
    to.mustRaft().step(m);
    if (m.type === 'snap') {
      this.stats.snapshotsSent++;
      const sender = this.nodes.get(m.from);
      if (sender?.alive) {
        sender.mustRaft().reportSnapshot(m.to, true);
        this.afterActivity(sender);
      }
    }
    this.afterActivity(to);
  }

  // ---- Clients ------------------------------------------------------------------------------

  private onClient(c: number): void {
    const client = this.clients[c]!;
    if (client.waiting !== null || this.clientsStopped) return;
    const targets = this.liveMembers();
    if (targets.length === 0) {
      this.queue.push(this.now + 50, { kind: 'client', client: c });
      return;
    }
    const hinted = client.leaderHint ? this.nodes.get(client.leaderHint) : undefined;
    const node = hinted?.alive && !hinted.removed ? hinted : this.rand.pick(targets);
    const op = nextOp(this.rand, c, client.seq++, this.params.keys, client.lastSeen);
    const opId = this.history.invoke(c, op);
    client.waiting = opId;
    this.queue.push(this.now + 40 * unitsPerTick, { kind: 'timeout', client: c, opId });
    this.trace(`client ${c} -> ${node.id}: ${JSON.stringify(op)} (#${opId})`);
    try {
      if (op.kind === 'get') {
        const ctx = `r${opId}`;
        node.reads.set(ctx, { opId, key: op.key, index: null });
        try {
          node.mustRaft().readIndex(ctx);
        } catch (e) {
          node.reads.delete(ctx);
          throw e;
        }
      } else {
        const at = node.mustRaft().propose(encodeCommand({ opId, op }));
        node.proposals.set(opId, { opId, ...at });
        this.trace(`  #${opId} proposed at ${at.index}/${at.term}`);
      }
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      client.leaderHint = e.leaderHint;
      this.resolve({ opId, failed: e.message });
    }
    this.afterActivity(node);
  }

  resolve(o: ClientOutcome): void {
    const client = this.clients.find((c) => c.waiting === o.opId);
    if (!client || !this.history.isOpen(o.opId)) return;
    if ('failed' in o) this.history.fail(o.opId);
    else if ('unknown' in o) this.history.unknown(o.opId);
    else {
      this.history.complete(o.opId, o.result);
      this.trace(`client ${client.id} <- #${o.opId} ${JSON.stringify(o.result)}`);
    }
    this.nextClientOp(client);
  }

  private onTimeout(c: number, opId: number): void {
    const client = this.clients[c]!;
    if (client.waiting !== opId || !this.history.isOpen(opId)) return;
    this.history.unknown(opId);
    client.leaderHint = null;
    this.nextClientOp(client);
  }

  private nextClientOp(client: ClientState): void {
    client.waiting = null;
    this.queue.push(this.now + this.rand.range(5, 60), { kind: 'client', client: client.id });
  }

  // ---- Faults (see faults.ts) ---------------------------------------------------------------

  onFaultHook: () => void = () => {};

  private onFault(): void {
    if (this.healed) return;
    this.onFaultHook();
    const [lo, hi] = this.params.profile === 'churn' ? [20, 150] : [80, 400];
    this.queue.push(this.now + this.rand.range(lo, hi), { kind: 'fault' });
  }

  scheduleRestart(node: SimNode, after: number): void {
    this.queue.push(this.now + after, { kind: 'restart', node: node.id });
  }

  /** Proposes a membership change or a transfer through the current leader, if there is one. */
  tryLeaderAction(action: (leader: SimNode) => void): boolean {
    const leader = this.leader();
    if (!leader) return false;
    try {
      action(leader);
    } catch (e) {
      if (e instanceof ProposalDroppedError) return false;
      throw e;
    }
    this.afterActivity(leader);
    return true;
  }

  errorIfNot(cond: boolean, kind: 'liveness' | 'divergence', detail: () => string): void {
    if (!cond) throw new Violation(kind, detail());
  }
}
