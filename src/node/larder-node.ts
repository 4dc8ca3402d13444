import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Server, type ChannelCredentials } from '@grpc/grpc-js';
import type { Entry, NodeId, Snapshot } from '../raft/index.js';
import { DurableStorage } from '../storage/index.js';
import {
  DEFAULT_LEASE_MS,
  decodeCommand,
  encodeCommand,
  openStateMachine,
  peekCommandType,
  type ApplyResult,
  type LogEntryData,
  type StateMachine,
} from '../store/index.js';
import { PeerTransport } from '../transport/peer-transport.js';
import { TrustError, nodeServerCredentials, peerAuthorizer, peerChannelCredentials, peerProbeCredentials } from '../trust/index.js';
import type { AdmissionConfig } from '../admission/index.js';
import { admissionConfigOf, admissionStats, startAdmission, type NodeAdmission } from './admission.js';
import type { ApiContext } from './api-context.js';
import { larderService } from './api-service.js';
import { clientTokenInterceptor } from './client-token.js';
import { earlyAdmissionInterceptor } from './early-admission.js';
import { ChunkReader } from './chunk-reader.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { UploadForwarder } from './forward.js';
import type { NodeConfig } from './config.js';
import { withClientToken } from '../client/larder-client.js';
import { createLogger, type Logger } from './log.js';
import { Membership } from './membership.js';
import { membershipService } from './membership-service.js';
import { RaftLoop } from './raft-loop.js';
import {
  NodeStartError,
  admittedIndex,
  enterCluster,
  explainStorageFailure,
  isFresh,
  markRemoved,
  moveDamagedStateAside,
  refuseIfRemoved,
  startDiscovery,
} from './startup.js';
import { prepareTrust } from './trust.js';
import type { MdnsDiscovery } from '../discovery/index.js';

const gcEveryMs = 5 * 60_000;
const reconcileEveryMs = 500;
/** A removed node waits this long to see its removal committed before it stops anyway. */
const leaveGraceMs = 10_000;

export { NodeStartError };

/**
 * One Larder node under plain Node: durable Raft storage, the replicated store, the peer
 * transport and the client API on one gRPC server. `larder start` runs it headless; the
 * desktop app embeds it.
 */
export class LarderNode {
  private readonly events = new EventEmitter();
  private readonly lastContact = new Map<NodeId, number>();
  private timers: ReturnType<typeof setInterval>[] = [];
  private stopped = false;
  /** Released when the node stops; a node that crashes leaves a stale lock the next start takes over. */
  private dataDirLock: DataDirLock | null = null;
  private readonly forwarder: UploadForwarder;
  private leaving = false;
  private admittedIndex = 0;
  discovery: MdnsDiscovery | null = null;
  membership!: Membership;

  private constructor(
    readonly config: NodeConfig,
    readonly log: Logger,
    readonly storage: DurableStorage,
    readonly sm: StateMachine,
    readonly loop: RaftLoop<ApplyResult>,
    readonly transport: PeerTransport,
    readonly reader: ChunkReader,
    private readonly server: Server,
    private readonly addresses: Map<NodeId, string>,
    readonly admission: NodeAdmission,
    /** How this node dials other nodes (as a peer, with its certificate). */
    private readonly peerCredentials: ChannelCredentials,
  ) {
    this.events.setMaxListeners(0);
    this.forwarder = new UploadForwarder(withClientToken(peerCredentials, config.clientToken));
  }

  static async start(config: NodeConfig, log: Logger = createLogger(config.nodeId, config.logLevel)): Promise<LarderNode> {
    const lock = await lockDataDir(config.dataDir);
    try {
      const node = await LarderNode.startLocked(config, log);
      node.dataDirLock = lock;
      return node;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  private static async startLocked(config: NodeConfig, log: Logger): Promise<LarderNode> {
    const admissionConfig = admissionConfigOf(config);
    const addresses = new Map<NodeId, string>(Object.entries(config.initialCluster));
    addresses.set(config.nodeId, config.advertise);
    if (config.rebuildFromPeers) await moveDamagedStateAside(config, log);
    else await refuseIfRemoved(config);
    // A small entry cache: recent entries serve followers; chunk bytes are cached by ChunkReader.
    const storage = await DurableStorage.open(join(config.dataDir, 'raft'), { cacheBytesMax: 16 * 1024 * 1024, logger: { warn: (m) => log.warn(m) } }).catch(
      (e: unknown) => {
        throw explainStorageFailure(e, config);
      },
    );
    const fresh = isFresh(storage);
    const trust = await prepareTrust(config, fresh, log).catch(async (e: unknown) => {
      await storage.close();
      throw e instanceof TrustError ? new NodeStartError(e.message) : e;
    });
    const discovery = await startDiscovery(config, log);
    if (fresh) {
      const credentials = peerChannelCredentials(trust.identity, trust.ca);
      const deps = { log, discovery, credentials, probeCredentials: peerProbeCredentials(trust.identity), stopped: () => false };
      const admitted = await enterCluster(config, storage, deps).catch(async (e: unknown) => {
        await Promise.all([storage.close(), discovery?.stop()]);
        throw e;
      });
      for (const m of admitted?.members ?? []) if (m.id !== config.nodeId) addresses.set(m.id, m.address);
    }
    const { hardState } = storage.initialState();
    const snapshotIndex = storage.snapshot().metadata.index;
    const { stateMachine: sm, recovery } = await openStateMachine({
      dataDir: join(config.dataDir, 'store'),
      durable: { snapshotIndex, commitIndex: hardState.commit },
      loadSnapshot: async () => (snapshotIndex > 0 ? storage.snapshot().data : null),
      entriesAfter: (after) => committedEntries(storage, after, hardState.commit),
      logger: { warn: (d, m) => log.warn(d, m), info: (d, m) => log.info(d, m) },
    });
    log.info({ recovery, commit: hardState.commit, snapshotIndex }, 'state machine ready');
    await loadAddressBook(sm, addresses, config.nodeId);
    await rematerializeChunks(storage, sm, snapshotIndex, hardState.commit, log);
    // The transport and the loop call back into the node, which exists only once they do.
    const self = {} as { node: LarderNode };
    const transport = new PeerTransport({
      nodeId: config.nodeId,
      clusterId: config.clusterId,
      credentials: {
        server: nodeServerCredentials(trust.identity, trust.ca),
        client: peerChannelCredentials(trust.identity, trust.ca),
        authorize: peerAuthorizer(trust.ca),
      },
      resolveAddress: (id) => addresses.get(id) ?? null,
      handlers: {
        onMessage: (m) => self.node.onPeerMessage(m),
        onUnreachable: (id) => self.node.loop.reportUnreachable(id),
        onSnapshotStatus: (id, ok) => self.node.loop.reportSnapshot(id, ok),
        readChunk: (hash) => sm.chunks.get(hash).catch(() => null),
      },
      log: (m) => log.warn(m),
    });
    const reader = new ChunkReader(sm.chunks, () => [...addresses.keys()].filter((id) => id !== config.nodeId), transport, log, config.cacheBytes);
    const loop = new RaftLoop<ApplyResult>({
      raft: {
        id: config.nodeId,
        electionTick: config.electionTicks,
        heartbeatTick: 1,
        randomInt: (n) => randomInt(n),
        applied: hardState.commit,
        // At most 16 x 1 MiB in flight per follower: a slow follower costs bounded memory.
        maxSizePerMsg: 1024 * 1024,
        maxInflightMsgs: 16,
        maxUncommittedBytes: 32 * 1024 * 1024,
        logger: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
      },
      storage,
      stateMachine: {
        apply: async (index, data) => {
          const r = await sm.apply(index, data);
          if (r.ok && (r.command === 'commitFile' || r.command === 'setStatus')) self.node.events.emit(`status:${r.hash}`);
          if (r.ok && r.command === 'setMember') self.node.onMemberRecorded(index, r.id, r.address, r.role);
          return r;
        },
        snapshot: () => sm.snapshot(),
        restore: (snap) => self.node.restoreSnapshot(snap),
      },
      transport,
      snapshotEntries: config.snapshotEntries,
      // Enough log behind a snapshot for a briefly lagging follower; older ones get the snapshot.
      keepEntries: Math.min(1024, Math.floor(config.snapshotEntries / 4)),
      onError: (e) => self.node.fail(e),
    });
    const admission = startAdmission(admissionConfig);
    const server = new Server({
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // The token check comes first: a caller without it is not worth an admission decision.
      interceptors: [...(config.clientToken ? [clientTokenInterceptor(config.clientToken, log)] : []), earlyAdmissionInterceptor(admission.controller)],
    });
    const node = new LarderNode(
      config,
      log,
      storage,
      sm,
      loop,
      transport,
      reader,
      server,
      addresses,
      admission,
      peerChannelCredentials(trust.identity, trust.ca),
    );
    self.node = node;
    node.discovery = discovery;
    node.admittedIndex = await admittedIndex(config.dataDir);
    node.membership = new Membership({
      nodeId: config.nodeId,
      clusterId: config.clusterId,
      loop,
      listMembers: () => sm.catalog.listMembers(),
      addresses,
      lastContact: (id) => node.lastContact.get(id),
      now: () => Date.now(),
      encode: encodeCommand,
      log,
      settings: { maxVoters: config.maxVoters, voterGraceMs: config.voterGraceMs, catchUpEntries: 64, liveWithinMs: config.tickMs * config.electionTicks * 2 },
    });
    const peer = transport.service();
    server.addService(peer.definition, peer.implementation);
    const joins = membershipService(node.membership, peerAuthorizer(trust.ca), log, () => node.leaderAddress());
    server.addService(joins.definition, joins.implementation);
    const api = larderService(node.apiContext());
    server.addService(api.definition, api.implementation);
    await new Promise<number>((res, rej) =>
      server.bindAsync(config.listen, nodeServerCredentials(trust.identity, trust.ca), (e, port) =>
        e ? rej(new NodeStartError(`cannot listen on ${config.listen}: ${e.message}; is another node using that port? pick another with --listen`)) : res(port),
      ),
    );
    node.timers.push(setInterval(() => loop.tick(), config.tickMs));
    node.timers.push(setInterval(() => void node.collectGarbage(), gcEveryMs));
    node.timers.push(setInterval(() => void node.membership.reconcile(), reconcileEveryMs));
    log.info(
      { listen: config.listen, cluster: config.clusterId, members: Object.fromEntries(addresses), admission: admissionSummary(admissionConfig) },
      'node started',
    );
    return node;
  }

  private onPeerMessage(m: Parameters<RaftLoop<ApplyResult>['step']>[0]): void {
    this.lastContact.set(m.from, Date.now());
    this.loop.step(m);
  }

  /**
   * The address book changed: dial the member there from now on. A node marked removed leaves,
   * unless the mark predates its admission (a rebuilt node replaying its old removal).
   */
  private onMemberRecorded(index: number, id: NodeId, address: string, role: string): void {
    if (id !== this.config.nodeId) this.addresses.set(id, address);
    else if (role === 'removed' && index > this.admittedIndex) void this.leave();
  }

  /** This node was removed from the cluster: it says so on disk (a restart refuses), then stops. */
  private async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    await markRemoved(this.config.dataDir, this.loop.status().lead ?? 'unknown');
    this.log.warn('this node is being removed from the cluster; it stops once the removal is committed');
    const giveUpAt = Date.now() + leaveGraceMs;
    while (!this.stopped && Date.now() < giveUpAt) {
      const cs = this.loop.status().confState;
      if (!cs.voters.includes(this.config.nodeId) && !cs.learners.includes(this.config.nodeId)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    this.log.warn('left the cluster; this node stops now');
    await this.stop();
    this.events.emit('left');
  }

  onLeft(listener: () => void): void {
    this.events.on('left', listener);
  }

  /** Installs a leader's snapshot, then fetches the chunks it references that this node lacks. */
  private async restoreSnapshot(snap: Snapshot): Promise<void> {
    const { missingChunks } = await this.sm.restore(snap.data);
    await loadAddressBook(this.sm, this.addresses, this.config.nodeId);
    this.log.info({ index: snap.metadata.index, missingChunks: missingChunks.length }, 'installed snapshot; fetching only the chunks this node lacks');
    void this.fetchMissing(missingChunks);
  }

  private async fetchMissing(hashes: string[]): Promise<void> {
    let fetched = 0;
    for (const h of hashes) {
      if (this.stopped) return;
      try {
        await this.reader.read(h);
        fetched++;
      } catch (e) {
        this.log.error({ chunk: h, err: (e as Error).message }, 'could not fetch a chunk after installing a snapshot; it will be fetched on first read');
      }
    }
    this.log.info({ fetched, of: hashes.length }, 'snapshot catch-up: chunks fetched');
  }

  /** Deletes chunks no file references (past the store's grace period); local to this node. */
  private async collectGarbage(): Promise<void> {
    try {
      const { deleted } = await this.sm.gc();
      for (const h of deleted) this.reader.forget(h);
      if (deleted.length > 0) this.log.info({ chunks: deleted.length }, 'garbage-collected unreferenced chunks');
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'chunk garbage collection failed; will retry');
    }
  }

  leaderAddress(): string | null {
    const lead = this.loop.status().lead;
    return lead ? (this.addresses.get(lead) ?? null) : null;
  }

  apiContext(): ApiContext {
    return {
      nodeId: this.config.nodeId,
      clusterId: this.config.clusterId,
      address: this.config.advertise,
      loop: this.loop,
      sm: this.sm,
      reader: this.reader,
      log: this.log,
      hostToken: this.config.hostToken,
      forwardUploads: this.config.forwardUploads,
      leaseMs: DEFAULT_LEASE_MS,
      admission: this.admission.controller,
      forwarder: this.forwarder,
      admissionStats: () => admissionStats(this.admission.controller.snapshot(), this.admission.controller.getConfig()),
      onStop: (listener) => {
        this.events.once('stopping', listener);
        return () => this.events.off('stopping', listener);
      },
      isLeader: () => this.loop.status().role === 'leader',
      leaderAddress: () => this.leaderAddress(),
      peerAddress: (id) => this.addresses.get(id) ?? null,
      lastContactMsAgo: (id) => {
        const t = this.lastContact.get(id);
        return t === undefined ? null : Date.now() - t;
      },
      uploadDeps: () => ({
        nodeId: this.config.nodeId,
        propose: (c) => this.loop.propose(encodeCommand(c)),
        lockLooksFree: async (key) => {
          const l = await this.sm.catalog.getLock(key);
          return l === null || l.leaseExpiresAtMs < Date.now();
        },
        leaseMs: DEFAULT_LEASE_MS,
        now: () => Date.now(),
        log: this.log,
        chunksInFlightMax: 8,
      }),
      encode: encodeCommand,
      removeMember: (id) => this.membership.remove(id),
      statusChanged: (hash, timeoutMs) =>
        new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            this.events.off(`status:${hash}`, done);
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          this.events.once(`status:${hash}`, done);
        }),
    };
  }

  private fail(cause: Error): void {
    const e = explainStorageFailure(cause, this.config) as Error;
    const advice = e === cause ? 'restart it (its durable state is intact)' : 'see the error for the way out';
    this.log.fatal({ err: e.message, stack: e.stack }, `the node hit an unrecoverable error and stops; ${advice}`);
    void this.stop();
    this.events.emit('fatal', e);
  }

  onFatal(listener: (e: Error) => void): void {
    this.events.on('fatal', listener);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.events.emit('stopping');
    this.admission.sampler.stop();
    await this.discovery?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.loop.stop();
    // Peers keep their streams to us open: give calls in progress a moment, then cut the rest.
    await new Promise<void>((res) => {
      const force = setTimeout(() => this.server.forceShutdown(), 2000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        res();
      });
    });
    this.transport.close();
    this.forwarder.close();
    await this.loop.idle().catch(() => {});
    await this.storage.close();
    await this.sm.close();
    await this.dataDirLock?.release();
    this.log.info('node stopped');
  }
}

function admissionSummary(c: AdmissionConfig): Record<string, unknown> {
  const policies = (['memory', 'priority', 'cpuBands', 'deadline'] as const).filter((p) => c[p].enabled);
  return { workers: c.workers, uploadQueue: c.uploadQueue, downloadQueue: c.downloadQueue, policies };
}

/** The replicated address book wins over --initial-cluster: members may have moved since. */
async function loadAddressBook(sm: StateMachine, addresses: Map<NodeId, string>, self: NodeId): Promise<void> {
  for (const m of await sm.catalog.listMembers()) if (m.id !== self) addresses.set(m.id, m.address);
}

/** Committed entries after `after`, for replay into the state machine (empty data for non-commands). */
function* committedEntries(storage: DurableStorage, after: number, commit: number): Generator<LogEntryData> {
  const batchBytes = 32 * 1024 * 1024;
  let next = Math.max(after + 1, storage.firstIndex());
  while (next <= commit) {
    const batch: Entry[] = storage.entries(next, commit + 1, batchBytes);
    for (const e of batch) yield { index: e.index, data: e.kind === 'normal' ? e.data : new Uint8Array(0) };
    next += batch.length;
  }
}

/**
 * Chunks applied since the last snapshot were written without fsync (the log holds them): after
 * a power loss a chunk file may be gone while its catalog entry survived. Rewrite any such chunk
 * from the committed log tail, so a restarted node never depends on a peer for its own data.
 */
async function rematerializeChunks(storage: DurableStorage, sm: StateMachine, snapshotIndex: number, commit: number, log: Logger): Promise<void> {
  let restored = 0;
  for (const { data } of committedEntries(storage, snapshotIndex, commit)) {
    if (data.length === 0 || peekCommandType(data) !== 'putChunk') continue;
    const cmd = decodeCommand(data);
    if (cmd.type !== 'putChunk' || (await sm.chunks.verify(cmd.hash)) === null) continue;
    await sm.chunks.put(cmd.hash, cmd.data);
    restored++;
  }
  if (restored > 0) log.warn({ chunks: restored }, 'rewrote chunk files lost since the last snapshot from the log');
}
