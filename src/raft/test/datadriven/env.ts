import type { RaftConfig, RaftLogger } from '../../config.js';
import { MemoryStorage } from '../../memory-storage.js';
import { RaftNode } from '../../node.js';
import { seededRandom } from '../../rand.js';
import type { Message } from '../../types.js';
import { AppState, byId } from './app.js';
import { fmtConf, fmtMsg, fmtReady } from './format.js';
import { Network } from './network.js';

/** Per-node settings from `add-nodes`; undefined means the core's default. */
export interface NodeOptions {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly preVote: boolean | undefined;
  readonly checkQuorum: boolean | undefined;
  readonly maxInflightMsgs: number | undefined;
  readonly maxSizePerMsg: number | undefined;
  readonly maxUncommittedBytes: number | undefined;
  readonly maxApplyBytes: number | undefined;
  /** Seed of the node's randomized election timeout; undefined: always exactly electionTick. */
  readonly seed: number | undefined;
}

export interface Peer {
  readonly id: string;
  readonly opts: NodeOptions;
  readonly storage: MemoryStorage;
  /** Survives restarts, so a restarted node does not replay the same random draws. */
  readonly randomInt: (n: number) => number;
  node: RaftNode;
  app: AppState;
  down: boolean;
}

export type LogLevel = 'none' | 'warn' | 'info';

/**
 * The interaction environment (after etcd-io/raft's rafttest.InteractionEnv): several RaftNodes
 * over MemoryStorage, a message queue standing for the network, and a transcript that commands
 * append to. The network only moves messages when a command says so, so every interleaving in a
 * scenario is explicit and the transcript is deterministic.
 */
export class Env {
  readonly peers = new Map<string, Peer>();
  readonly net = new Network();
  logLevel: LogLevel = 'none';
  private out: string[] = [];
  private indent = '';
  private muted = false;

  // ---- Transcript ---------------------------------------------------------------------------

  print(line: string): void {
    if (!this.muted) this.out.push(this.indent + line);
  }

  /** Runs `f` without transcript, when `quiet` (setup steps whose details do not matter). */
  maybeQuietly(quiet: boolean, f: () => void): void {
    const saved = this.muted;
    this.muted = this.muted || quiet;
    try {
      f();
    } finally {
      this.muted = saved;
    }
  }

  /** Runs `f` with its output indented one more level (the body of a `> header`). */
  nested(f: () => void): void {
    const saved = this.indent;
    this.indent += '  ';
    try {
      f();
    } finally {
      this.indent = saved;
    }
  }

  /** Prints `header` and `f`'s output nested under it, or nothing at all if `f` prints nothing. */
  section(header: string, f: () => void): void {
    const at = this.out.length;
    this.print(header);
    this.nested(f);
    if (this.out.length === at + 1) this.out.pop();
  }

  takeOutput(): string {
    const s = this.out.join('\n');
    this.out = [];
    this.indent = '';
    return s;
  }

  // ---- Nodes --------------------------------------------------------------------------------

  ids(): string[] {
    return [...this.peers.keys()].sort(byId);
  }

  peer(id: string): Peer {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`no node ${id}`);
    return p;
  }

  upIds(): string[] {
    return this.ids().filter((id) => !this.peer(id).down);
  }

  addPeer(id: string, storage: MemoryStorage, opts: NodeOptions): Peer {
    const randomInt = opts.seed === undefined ? () => 0 : seededRandom(opts.seed * 1000 + Number(id)).int;
    const app = new AppState(storage.snapshot());
    const node = new RaftNode(this.raftConfig(id, storage, opts, randomInt, app.applied));
    const p: Peer = { id, opts, storage, randomInt, app, node, down: false };
    this.peers.set(id, p);
    return p;
  }

  /** Rebuilds the node from what it persisted; the application keeps what it applied. */
  restart(id: string): void {
    const p = this.peer(id);
    p.node = new RaftNode(this.raftConfig(id, p.storage, p.opts, p.randomInt, p.app.applied));
    p.down = false;
  }

  private raftConfig(id: string, storage: MemoryStorage, o: NodeOptions, randomInt: (n: number) => number, applied: number): RaftConfig {
    const optional = {
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      maxInflightMsgs: o.maxInflightMsgs,
      maxSizePerMsg: o.maxSizePerMsg,
      maxUncommittedBytes: o.maxUncommittedBytes,
      maxApplyBytes: o.maxApplyBytes,
      applied: applied > 0 ? applied : undefined,
    };
    // Absent keys, not undefined ones: the core fills defaults by spreading over them.
    const defined = Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined));
    return { id, storage, electionTick: o.electionTick, heartbeatTick: o.heartbeatTick, randomInt, logger: this.logger(), ...defined };
  }

  private logger(): RaftLogger {
    return {
      info: (m) => {
        if (this.logLevel === 'info') this.print(`INFO ${m}`);
      },
      warn: (m) => {
        if (this.logLevel !== 'none') this.print(`WARN ${m}`);
      },
    };
  }

  // ---- Ready handling -----------------------------------------------------------------------

  /** Handles one Ready of `id` by the contract (persist, send, apply, advance) and prints it. */
  processReady(id: string): void {
    const p = this.peer(id);
    if (p.down) return this.print(`${id} is down`);
    if (!p.node.hasReady()) return this.print('no Ready');
    const rd = p.node.ready();
    if (rd.snapshot) {
      p.storage.applySnapshot(rd.snapshot);
      p.app = new AppState(rd.snapshot);
    }
    p.storage.append(rd.entries);
    if (rd.hardState) p.storage.setHardState(rd.hardState);
    for (const line of fmtReady(rd, (m) => this.send(m))) this.print(line);
    for (const e of rd.committedEntries) p.app.apply(e);
    p.node.advance(rd);
    if (rd.committedEntries.some((e) => e.kind === 'confChange')) this.print(`config: ${fmtConf(p.node.status().confState)}`);
  }

  /** Puts `m` on the network unless a cut drops it; returns how to print it. */
  private send(m: Message): string {
    if (this.net.isCut(m)) return `${fmtMsg(m)} (dropped)`;
    if (this.peers.get(m.to)?.down === true) return `${fmtMsg(m)} (dropped: ${m.to} is down)`;
    this.net.queue.push(m);
    return fmtMsg(m);
  }

  // ---- Delivery -----------------------------------------------------------------------------

  /** Steps each message into its recipient, unless it is down or cut off (then it is lost). */
  deliver(msgs: readonly Message[]): void {
    for (const m of msgs) {
      const p = this.peers.get(m.to);
      const why = p === undefined ? 'no such node' : p.down ? `${m.to} is down` : this.net.isCut(m) ? 'cut' : null;
      if (why !== null || p === undefined) {
        this.print(`${fmtMsg(m)} (dropped: ${why})`);
        continue;
      }
      this.print(fmtMsg(m));
      this.nested(() => p.node.step(m));
    }
  }

  /** Processes Readies and delivers messages among `ids` until nothing is left to do. */
  stabilize(ids: readonly string[]): void {
    for (let round = 0; round < 10_000; round++) {
      let quiet = true;
      for (const id of ids) {
        const p = this.peer(id);
        if (p.down || !p.node.hasReady()) continue;
        quiet = false;
        this.print(`> ${id} handling Ready`);
        this.nested(() => this.processReady(id));
      }
      for (const id of ids) {
        const msgs = this.net.take(id);
        if (msgs.length === 0) continue;
        quiet = false;
        this.print(`> ${id} receiving messages`);
        this.nested(() => this.deliver(msgs));
      }
      if (quiet) return;
    }
    throw new Error('stabilize: no quiescence after 10000 rounds (livelock?)');
  }
}
