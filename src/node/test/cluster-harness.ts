import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LarderClient } from '../../client/larder-client.js';
import { generateSecret } from '../../trust/secret.js';
import type { ClusterInfoResponse } from '../../shared/proto/larder/v1/store.js';

const repo = resolve(import.meta.dirname, '../../..');

export interface TestNode {
  readonly id: string;
  readonly address: string;
  readonly dataDir: string;
  proc: ChildProcess | null;
  readonly log: string[];
  /** How it enters the cluster when new: listed in --initial-cluster, --join the founders, or mDNS discovery alone. */
  readonly entry: 'initial' | 'join' | 'discover';
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/**
 * Under vitest, nodes shed only on memory and deadlines unless a test says otherwise: the CPU
 * policies react to the whole machine, which two parallel test workers keep busy, and a test about
 * something else (say, a NOT_LEADER answer) must not be refused for load. Benchmarks keep the
 * product's defaults.
 */
function withTestShedding(flags: string[]): string[] {
  const chosen = flags.includes('--shed-policies') || flags.includes('--shedding') || flags.includes('--admission-config');
  return process.env['VITEST'] && !chosen ? ['--shed-policies', 'memory,deadline', ...flags] : flags;
}

/** Test clusters find each other by --initial-cluster / --join unless a test turns mDNS on. */
function withoutDiscovery(flags: string[]): string[] {
  return flags.includes('--discovery') ? flags : ['--discovery', 'off', ...flags];
}

/** Real `larder start` processes on 127.0.0.1, each with its own port and data dir. */
export class TestCluster {
  readonly nodes: TestNode[] = [];
  readonly root = mkdtempSync(join(tmpdir(), 'larder-cluster-'));
  /** Every node of this cluster shares it (src/trust). */
  readonly secret = generateSecret();
  private readonly clients: LarderClient[] = [];

  private constructor(
    readonly token: string,
    private readonly extraFlags: string[],
    private readonly launcher: string[],
  ) {}

  /** `launcher` prefixes each node's command line, e.g. ['taskset', '-c', '0'] to pin nodes to a core. */
  static async start(size: number, opts: { extraFlags?: string[]; launcher?: string[] } = {}): Promise<TestCluster> {
    const c = new TestCluster('test-host-token', withoutDiscovery(withTestShedding(opts.extraFlags ?? [])), opts.launcher ?? []);
    for (let i = 1; i <= size; i++) await c.define(`n${i}`, 'initial');
    for (const n of c.nodes) c.launch(n);
    return c;
  }

  /** A node of this cluster (not started): a founding member, or one that joins later. */
  async define(id: string, entry: TestNode['entry']): Promise<TestNode> {
    const port = await freePort();
    const n: TestNode = { id, address: `127.0.0.1:${port}`, dataDir: join(this.root, id), proc: null, log: [], entry };
    this.nodes.push(n);
    return n;
  }

  /** Starts a new node that joins the running cluster (as a learner, promoted when caught up). */
  async join(id: string, more: string[] = []): Promise<TestNode> {
    const n = await this.define(id, 'join');
    this.launchWith(n, more);
    return n;
  }

  private entryFlags(n: TestNode): string[] {
    if (n.entry === 'initial') return ['--initial-cluster', this.initialCluster()];
    if (n.entry === 'join')
      return [
        '--join',
        this.nodes
          .filter((m) => m.entry === 'initial')
          .map((m) => m.address)
          .join(','),
      ];
    return [];
  }

  private initialCluster(): string {
    return this.nodes
      .filter((n) => n.entry === 'initial')
      .map((n) => `${n.id}=${n.address}`)
      .join(',');
  }

  launch(n: TestNode): void {
    this.launchWith(n, []);
  }

  /** Starts `n` with `more` flags after the usual ones (a repeated flag's last value wins). */
  launchWith(n: TestNode, more: string[]): void {
    const args = [
      join(repo, 'bin/larder.mjs'),
      'start',
      '--node-id',
      n.id,
      '--data-dir',
      n.dataDir,
      '--listen',
      n.address,
      ...this.entryFlags(n),
      '--host-token',
      this.token,
      '--cluster-secret',
      this.secret,
      '--tick-ms',
      '50',
      '--log-level',
      'info',
      ...this.extraFlags,
      ...more,
    ];
    // LARDER_TEST_NODE_ARGS passes flags to the node processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
    const nodeArgs = process.env['LARDER_TEST_NODE_ARGS']?.split(' ').filter(Boolean) ?? [];
    const [command, ...prefix] = [...this.launcher, process.execPath];
    const proc = spawn(command!, [...prefix, ...nodeArgs, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      n.log.push(...d.toString().split('\n').filter(Boolean));
      if (n.log.length > 5000) n.log.splice(0, n.log.length - 5000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    n.proc = proc;
  }

  node(id: string): TestNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  endpoints(): string[] {
    return this.nodes.map((n) => n.address);
  }

  client(endpoints = this.endpoints(), deadlineMs = 30_000): LarderClient {
    const tokenAt = this.extraFlags.lastIndexOf('--client-token');
    const clientToken = tokenAt >= 0 ? this.extraFlags[tokenAt + 1] : undefined;
    const c = new LarderClient({ endpoints, clientToken, retry: { baseDelayMs: 20, maxDelayMs: 500, deadlineMs } });
    this.clients.push(c);
    return c;
  }

  async info(n: TestNode): Promise<ClusterInfoResponse | null> {
    try {
      return await this.client([n.address], 2000).clusterInfo(n.address);
    } catch {
      return null;
    }
  }

  /** Waits until the live nodes agree on one leader that has committed in its term. */
  async waitForLeader(timeoutMs = 20_000): Promise<TestNode> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const live = this.nodes.filter((n) => n.proc);
      const infos = await Promise.all(live.map((n) => this.info(n)));
      const leader = infos.find((i) => i?.role === 'leader');
      if (leader && infos.filter((i) => i?.leaderId === leader.nodeId).length > live.length / 2) return this.node(leader.nodeId);
      await sleep(50);
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.tail()}`);
  }

  /** Waits until `n` itself names `leader` as its leader (a majority knowing it is not enough for a test that talks to `n`). */
  async waitUntilKnowsLeader(n: TestNode, leader: TestNode, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const info = await this.info(n);
      if (info?.leaderId === leader.id && info.leaderAddress === leader.address) return;
      await sleep(50);
    }
    throw new Error(`${n.id} did not learn that ${leader.id} leads within ${timeoutMs} ms\n${this.tail()}`);
  }

  /** Waits until every live node has applied at least `index`. */
  async waitForApplied(index: number, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const infos = await Promise.all(this.nodes.filter((n) => n.proc).map((n) => this.info(n)));
      if (infos.every((i) => i && i.appliedIndex >= index)) return;
      await sleep(50);
    }
    const infos = await Promise.all(this.nodes.map(async (n) => `${n.id}: ${JSON.stringify(await this.info(n))}`));
    throw new Error(`not every node applied ${index} within ${timeoutMs} ms\n${infos.join('\n')}\n${this.tail()}`);
  }

  kill(n: TestNode, signal: NodeJS.Signals = 'SIGKILL'): void {
    n.proc?.kill(signal);
    n.proc = null;
  }

  /** Resident memory of a node's process in bytes (Linux /proc). */
  rssBytes(n: TestNode): number {
    if (!n.proc?.pid) return 0;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${n.proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0; // The process has just exited.
    }
  }

  tail(lines = 15): string {
    return this.nodes.map((n) => `--- ${n.id}\n${n.log.slice(-lines).join('\n')}`).join('\n');
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all(
      this.nodes.map(
        (n) =>
          new Promise<void>((res) => {
            if (!n.proc) return res();
            // A node that already exited (a bad flag, a crash) sends no more 'exit'.
            if (n.proc.exitCode !== null || n.proc.signalCode !== null) {
              n.proc = null;
              return res();
            }
            n.proc.once('exit', () => res());
            // A profiled node must exit on its own for --cpu-prof to write its profile.
            n.proc.kill(process.env['LARDER_TEST_NODE_ARGS']?.includes('--cpu-prof') ? 'SIGTERM' : 'SIGKILL');
            n.proc = null;
          }),
      ),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Deterministic pseudo-random bytes (xorshift), so test files differ but replay the same. */
export function bytesOf(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    if ((i & 3) === 0) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    out[i] = (x >>> ((i & 3) * 8)) & 0xff;
  }
  return out;
}

export async function* pieces(data: Buffer, pieceBytes = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += pieceBytes) yield data.subarray(i, i + pieceBytes);
}
