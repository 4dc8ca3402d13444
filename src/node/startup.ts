import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { MdnsDiscovery, PROTOCOL_VERSION, type Announcement } from '../discovery/index.js';
import { StorageError, rebuildCommand, type DurableStorage } from '../storage/index.js';
import type { JoinResponse } from '../shared/proto/larder/v1/membership.js';
import type { NodeConfig } from './config.js';
import { formCluster } from './formation.js';
import type { Logger } from './log.js';

export class NodeStartError extends Error {
  readonly code = 'NODE_START';
  constructor(message: string) {
    super(message);
    this.name = 'NodeStartError';
  }
}

/** Written when this node is removed from its cluster (larder leave / larder remove). */
const removedMarker = 'removed.json';
/** Where in the log this node was admitted (join.ts): older entries are history it replays. */
const admissionFile = 'admitted.json';

export function isFresh(storage: DurableStorage): boolean {
  return storage.lastIndex() === 0 && storage.snapshot().metadata.index === 0 && storage.initialState().hardState.term === 0;
}

/** Whether a new node founds a cluster by itself, without asking anyone (so it may invent the secret). */
export function foundsClusterAlone(config: NodeConfig): boolean {
  const others = Object.keys(config.initialCluster).filter((id) => id !== config.nodeId);
  return others.length === 0 && config.join.length === 0 && config.expect <= 1 && !config.rebuildFromPeers;
}

/**
 * --rebuild-from-peers: the damaged Raft log and store move aside (nothing is deleted; the trust
 * directory with the secret and key stays), and the node starts empty, to re-join as a learner.
 */
export async function moveDamagedStateAside(config: NodeConfig, log: Logger): Promise<void> {
  const aside = join(config.dataDir, `damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(aside, { recursive: true });
  for (const name of ['raft', 'store', removedMarker, admissionFile]) {
    const from = join(config.dataDir, name);
    if (await exists(from)) await rename(from, join(aside, name));
  }
  log.warn({ movedTo: aside }, "rebuilding from peers: moved this node's old state aside; delete it once the node has caught up");
}

export async function refuseIfRemoved(config: NodeConfig): Promise<void> {
  const text = await readFile(join(config.dataDir, removedMarker), 'utf8').catch(() => null);
  if (text === null) return;
  throw new NodeStartError(
    `this node left cluster "${config.clusterId}" (${text.trim()}); to join it again with a fresh copy of its data, run: ` +
      `larder start --data-dir ${config.dataDir} --rebuild-from-peers (with the node's other flags)`,
  );
}

export async function markRemoved(dataDir: string, by: string): Promise<void> {
  await writeFile(join(dataDir, removedMarker), `${JSON.stringify({ removedAt: new Date().toISOString(), by })}\n`);
}

export async function recordAdmission(dataDir: string, index: number): Promise<void> {
  await writeFile(join(dataDir, admissionFile), `${JSON.stringify({ admittedIndex: index })}\n`);
}

export async function admittedIndex(dataDir: string): Promise<number> {
  const text = await readFile(join(dataDir, admissionFile), 'utf8').catch(() => null);
  const value: unknown = text === null ? 0 : (JSON.parse(text) as { admittedIndex?: unknown }).admittedIndex;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new NodeStartError(`${join(dataDir, admissionFile)} is damaged; delete it`);
  return value;
}

/** The members of a new cluster from --initial-cluster: at most maxVoters voters (lowest ids), the rest learners. */
export function initialMembership(config: NodeConfig): { voters: string[]; learners: string[] } | null {
  const ids = Object.keys(config.initialCluster).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (ids.length === 0) return null;
  if (!ids.includes(config.nodeId)) {
    throw new NodeStartError(`node "${config.nodeId}" is not in --initial-cluster (${ids.join(', ')}); list every initial member there, this one included`);
  }
  return { voters: ids.slice(0, config.maxVoters), learners: ids.slice(config.maxVoters) };
}

export function announcementOf(config: NodeConfig): Announcement {
  const at = config.advertise.lastIndexOf(':');
  const host = config.advertise.slice(0, at).replace(/^\[|\]$/g, '');
  return { clusterId: config.clusterId, nodeId: config.nodeId, host, grpcPort: Number(config.advertise.slice(at + 1)), protocol: PROTOCOL_VERSION };
}

export async function startDiscovery(config: NodeConfig, log: Logger): Promise<MdnsDiscovery | null> {
  if (config.discovery !== 'mdns') return null;
  const mdns = new MdnsDiscovery({ announce: announcementOf(config), interface: config.mdnsInterface, intervalMs: 5000, ttlSeconds: 15 });
  mdns.on('rejected', (r) => log.debug({ ...r }, 'ignored an mDNS announcement'));
  mdns.on('warning', (e) => log.warn({ err: e.message }, 'mDNS'));
  try {
    await mdns.start();
    return mdns;
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'mDNS discovery could not start; use --join host:port to find the cluster');
    return null;
  }
}

/**
 * A brand-new node's way in: a new cluster from --initial-cluster (every member writes the same
 * first entries), alone (no one else to wait for), or by formation: join a running cluster, or
 * found one with the nodes discovery shows (formation.ts). A rebuilt node re-joins as itself.
 */
export async function enterCluster(
  config: NodeConfig,
  storage: DurableStorage,
  deps: { log: Logger; discovery: MdnsDiscovery | null; credentials: ChannelCredentials; probeCredentials: ChannelCredentials; stopped: () => boolean },
): Promise<JoinResponse | null> {
  const initial = config.rebuildFromPeers ? null : initialMembership(config);
  if (initial) {
    await storage.bootstrap(initial);
    deps.log.info(initial, 'bootstrapped a new cluster');
    return null;
  }
  const staticPeers = [
    ...config.join,
    ...(config.rebuildFromPeers
      ? Object.entries(config.initialCluster)
          .filter(([id]) => id !== config.nodeId)
          .map(([, a]) => a)
      : []),
  ];
  if (foundsClusterAlone(config) && deps.discovery === null) {
    await storage.bootstrap({ voters: [config.nodeId], learners: [] });
    deps.log.info({ voters: [config.nodeId] }, 'bootstrapped a new single-node cluster');
    return null;
  }
  if (config.rebuildFromPeers && staticPeers.length === 0 && deps.discovery === null) {
    throw new NodeStartError('--rebuild-from-peers needs peers to copy from: pass --join host:port of a running member (or turn on --discovery mdns)');
  }
  const request = { clusterId: config.clusterId, nodeId: config.nodeId, address: config.advertise, rebuild: config.rebuildFromPeers };
  const outcome = await formCluster({
    self: announcementOf(config),
    expect: config.expect,
    staticPeers,
    discovery: deps.discovery,
    join: { request, credentials: deps.credentials, probeCredentials: deps.probeCredentials, log: deps.log },
    log: deps.log,
    stopped: deps.stopped,
    mayBootstrap: !config.rebuildFromPeers,
  });
  if (outcome.kind === 'bootstrap') {
    await storage.bootstrap({ voters: [config.nodeId], learners: [] });
    deps.log.info({ expect: config.expect }, 'founded a new cluster (lowest node id among those discovered); the others join it');
    return null;
  }
  const { response } = outcome;
  if (config.rebuildFromPeers) await storage.seedHardState(Number(response.term), response.leaderId);
  await recordAdmission(config.dataDir, Number(response.admittedIndex));
  deps.log.info({ leader: response.leaderId, term: response.term, rebuild: config.rebuildFromPeers }, 'admitted to the cluster as a learner; catching up');
  return response;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Storage names the way out for its own directory (<data-dir>/raft); the user knows the node's
 * data dir. Corruption that no restart can fix becomes a start error naming the right command.
 */
export function explainStorageFailure(e: unknown, config: NodeConfig): unknown {
  if (!(e instanceof StorageError) || (e.code !== 'WAL_CORRUPT' && e.code !== 'SNAPSHOT_CORRUPT')) return e;
  const message = e.message.replace(rebuildCommand(join(config.dataDir, 'raft')), rebuildCommand(config.dataDir));
  return new NodeStartError(`${message} (with the node's other flags; it re-joins as a learner and copies the data from the cluster)`);
}
