import { execFile, execFileSync, spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * A private LAN of Linux network namespaces for multi-host tests (mDNS, TCP between "machines").
 * The bridge lives in a namespace of its own and every veth is created with its far end placed
 * directly in its namespace, so the root namespace's interfaces, routes and firewall are never
 * touched. Interface names (br0, v<i>, eth0) are per namespace, so they cannot clash with the
 * host's or another run's; only namespace names are global, and those carry a per-run prefix.
 */

export type NetnsAvailability = { ok: true } | { ok: false; why: string };
export interface NetnsHost {
  name: string;
  ip: string;
}
export interface RunResult {
  stdout: string;
  stderr: string;
}

const DEFAULT_SUBNET = '10.231.0.0/24';
const IP_TIMEOUT_MS = 10_000;
const KILL_GRACE_MS = 2000;

/** Inline `node -e` scripts would swamp the message. */
const shorten = (arg: string): string => (arg.length > 60 ? `${arg.slice(0, 57).replace(/\s+/g, ' ')}...` : arg);

/** Runs a command without a shell; failures name the command, its exit status and its stderr. */
export function run(command: string, args: string[], timeoutMs = IP_TIMEOUT_MS): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const status = typeof err.code === 'number' ? `exit ${err.code}` : (err.code ?? err.signal ?? 'failed');
      reject(new Error(`\`${[command, ...args].map(shorten).join(' ')}\` failed (${status}): ${stderr.trim() || '(no stderr)'}`));
    });
  });
}

const ip = (args: string[]): Promise<RunResult> => run('ip', args);

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await ip(['netns', 'list']);
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Deletes every namespace whose name starts with `prefix` (leftovers of a run killed by SIGKILL). */
export async function cleanupStaleNamespaces(prefix: string): Promise<string[]> {
  if (prefix.length < 2) throw new Error(`refusing to delete namespaces by the prefix "${prefix}": too broad`);
  const stale = (await listNamespaces()).filter((name) => name.startsWith(prefix));
  for (const name of stale) await ip(['netns', 'del', name]);
  return stale;
}

let counter = 0;
let probes = 0;
/** No live process shares our pid, and the counter separates the LANs of one process. */
const newPrefix = (): string => `lt${process.pid.toString(36)}x${(++counter).toString(36)}`;

/** Tries everything a LAN needs (a namespace, a bridge, a veth pair) in a throwaway namespace. */
export async function netnsAvailable(): Promise<NetnsAvailability> {
  if (process.platform !== 'linux') return { ok: false, why: `network namespaces need Linux, not ${process.platform}` };
  try {
    await ip(['-V']);
  } catch (err) {
    return { ok: false, why: `no usable \`ip\` binary (iproute2): ${(err as Error).message}` };
  }
  const probe = `${newPrefix()}-probe${++probes}`;
  try {
    await ip(['netns', 'add', probe]);
    await ip(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', probe, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    return { ok: true };
  } catch (err) {
    const uid = process.getuid?.();
    const root = uid === 0 ? '' : ` (running as uid ${uid}, not root)`;
    return { ok: false, why: `cannot build a namespace LAN${root}: ${(err as Error).message}` };
  } finally {
    await ip(['netns', 'del', probe]).catch(() => undefined);
  }
}

/** "a.b.c.0/24" -> "a.b.c."; a /24 keeps host addressing (10 + i) obvious. */
function subnetBase(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new Error(`subnet must look like 10.231.0.0/24, got "${subnet}"`);
  return `${m[1]}.${m[2]}.${m[3]}.`;
}

/** Every LAN not yet destroyed, for the synchronous last-chance cleanup when the process ends. */
const live = new Set<NetnsLan>();
const destroyAllSync = (): void => {
  for (const lan of live) lan.destroySync();
};
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers cannot await, hence the sync calls; SIGKILL still leaks (cleanupStaleNamespaces).
  process.on('exit', destroyAllSync);
  // Ctrl-C or a killed test run skips 'exit'. Clean up, then, if nobody else handles the signal,
  // die of it as we would have without this handler.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      destroyAllSync();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export class NetnsLan {
  readonly hosts: NetnsHost[] = [];
  readonly bridgeNamespace: string;
  private readonly children = new Set<ChildProcess>();
  private readonly created: string[] = [];
  private destroying: Promise<void> | null = null;

  private constructor(readonly prefix: string) {
    this.bridgeNamespace = `${prefix}-br`;
  }

  /** Hosts are 1-based: host i is namespace `<prefix>-i` with address <subnet>.(10 + i). */
  static async create(count: number, opts: { prefix?: string; subnet?: string } = {}): Promise<NetnsLan> {
    if (!Number.isInteger(count) || count < 1 || count > 200) throw new Error(`host count must be 1..200, got ${count}`);
    const base = subnetBase(opts.subnet ?? DEFAULT_SUBNET);
    const prefix = opts.prefix ?? newPrefix();
    const clash = (await listNamespaces()).filter((name) => name.startsWith(`${prefix}-`));
    // A generated prefix can only clash with a dead process that had our pid; a chosen one may be in use.
    if (clash.length > 0 && opts.prefix !== undefined) throw new Error(`namespaces ${clash.join(', ')} already exist`);
    if (clash.length > 0) await cleanupStaleNamespaces(`${prefix}-`);
    const lan = new NetnsLan(prefix);
    live.add(lan);
    installExitHooks();
    try {
      await lan.addBridge();
      for (let i = 1; i <= count; i++) await lan.addHost(i, `${base}${10 + i}`);
    } catch (err) {
      await lan.destroy();
      throw err;
    }
    return lan;
  }

  private async addNamespace(name: string): Promise<void> {
    await ip(['netns', 'add', name]);
    this.created.push(name);
  }

  private async addBridge(): Promise<void> {
    const br = this.bridgeNamespace;
    await this.addNamespace(br);
    await ip(['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    // Without snooping the bridge floods all multicast, so no IGMP querier is needed for mDNS.
    await ip(['-n', br, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', br, 'link', 'set', 'br0', 'up']);
  }

  private async addHost(i: number, address: string): Promise<void> {
    const ns = `${this.prefix}-${i}`;
    const br = this.bridgeNamespace;
    await this.addNamespace(ns);
    // "peer ... netns" creates the far end straight in the host namespace: neither end is ever in the root one.
    await ip(['-n', br, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ip(['-n', br, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
    await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    // No default route here: a socket that names no multicast interface (a node with default
    // options) would get ENETUNREACH sending to 224.0.0.251 without this one.
    await ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    this.hosts.push({ name: ns, ip: address });
  }

  host(i: number): NetnsHost {
    const host = this.hosts[i - 1];
    if (!host) throw new Error(`no host ${i}: this LAN has hosts 1..${this.hosts.length}`);
    return host;
  }

  /** Starts `command` inside host i's namespace; destroy() kills it if it is still running. */
  spawn(i: number, command: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
    if (this.destroying) throw new Error(`LAN ${this.prefix} is destroyed`);
    const child = spawnChild('ip', ['netns', 'exec', this.host(i).name, command, ...args], options);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** Runs `command` inside host i's namespace to completion; rejects on a non-zero exit. */
  exec(i: number, command: string, args: string[] = [], timeoutMs = IP_TIMEOUT_MS): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.host(i).name, command, ...args], timeoutMs);
  }

  /** Idempotent: kills what spawn() started, then deletes every namespace (their veths go with them). */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    await Promise.all([...this.children].map(stopChild));
    // Grandchildren, or processes started some other way, would keep a deleted namespace (and its
    // veth) alive unnamed; everything in a namespace we made is ours to kill.
    for (const name of this.created) killPids(await pidsIn(name));
    const failures: string[] = [];
    // Reverse order: hosts first, the bridge namespace last.
    for (const name of this.created.splice(0).reverse()) {
      await ip(['netns', 'del', name]).catch((err: Error) => failures.push(err.message));
    }
    live.delete(this);
    if (failures.length > 0) throw new Error(`LAN ${this.prefix} teardown: ${failures.join('; ')}`);
  }

  /** For the exit hook only: no awaiting, best effort. */
  destroySync(): void {
    for (const child of this.children) child.kill('SIGKILL');
    for (const name of this.created.splice(0)) {
      killPids(ipQuietSync(['netns', 'pids', name]));
      ipQuietSync(['netns', 'del', name]);
    }
    live.delete(this);
  }
}

/** Sync `ip` for the exit path, where a failure (already gone) leaves nothing better to do. */
function ipQuietSync(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Empty if the namespace is already gone. */
const pidsIn = (ns: string): Promise<string> =>
  ip(['netns', 'pids', ns]).then(
    (r) => r.stdout,
    () => '',
  );

/** `ip netns pids` output: one pid a line. */
function killPids(list: string): void {
  for (const pid of list
    .split('\n')
    .map(Number)
    .filter((n) => n > 0 && n !== process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It exited meanwhile.
    }
  }
}

/** SIGTERM, then SIGKILL if the process ignores it. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
