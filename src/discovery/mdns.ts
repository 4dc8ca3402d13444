import { EventEmitter } from 'node:events';
import type { Answer } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { SERVICE_TYPE, encodeAnnouncement, type Announcement } from './announcement.js';
import { decodeAnnouncements } from './decode.js';
import { mdnsOptionsSchema, type DiscoveryEvents, type DiscoveryRejection, type MdnsDiscoveryOptions, type MdnsOptions } from './mdns-options.js';
import { answersQuery, knownAnswers } from './query.js';
import { OncePer } from './once-per.js';
import { PeerTable, type SeenAnnouncement } from './peer-table.js';

/**
 * Announces this node on mDNS and keeps a view of the other nodes of its cluster. What it reports
 * is only a hint: the node layer must still authenticate each peer before trusting it.
 */

export type { DiscoveryEvents, DiscoveryRejection, MdnsDiscoveryOptions };

/** RFC 6762 section 8.3: announce a few times about a second apart before settling down. */
const STARTUP_TICKS = 3;
const STARTUP_INTERVAL_MS = 1000;
const MAX_TTL_SECONDS = 3600;

export class MdnsDiscovery extends EventEmitter<DiscoveryEvents> {
  private readonly options: MdnsOptions;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly table: PeerTable;
  private readonly reported: OncePer;
  private socket: makeMdns.MulticastDNS | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;

  constructor(options: MdnsDiscoveryOptions) {
    super();
    this.options = mdnsOptionsSchema.parse(options);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.table = new PeerTable(this.options.maxPeers);
    this.reported = new OncePer(this.options.rejectReportMs);
  }

  get announcement(): Announcement {
    return this.options.announce;
  }

  /** Resolves once the socket is bound; rejects if it cannot be (EADDRINUSE, EACCES). */
  async start(): Promise<void> {
    if (this.socket) return;
    const { interface: iface, bind, port } = this.options;
    // Bound to a unicast address, Linux drops datagrams sent to the multicast group, so an
    // interface choice alone would hear nothing: bind the wildcard unless told otherwise.
    const socket = makeMdns({ interface: iface, bind: bind ?? (iface ? '0.0.0.0' : undefined), port, reuseAddr: true, loopback: true });
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', failed);
      socket.once('ready', () => {
        socket.off('error', failed);
        resolve();
      });
    });
    socket.on('response', (packet, rinfo) => this.onRecords([...packet.answers, ...packet.additionals], rinfo.address));
    socket.on('query', (packet) => this.onQuery(packet));
    socket.on('warning', (err: Error) => this.emit('warning', err));
    socket.on('error', (err: Error) => this.emit('warning', err));
    this.socket = socket;
    this.ticks = 0;
    this.tick();
  }

  /** `goodbye: false` skips the TTL-0 announcement, which is how a crash looks to the others. */
  async stop({ goodbye = true }: { goodbye?: boolean } = {}): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (goodbye) await new Promise<void>((resolve) => socket.respond(encodeAnnouncement(this.announcement, 0), () => resolve()));
    await new Promise<void>((resolve) => socket.destroy(() => resolve()));
    this.table.clear();
  }

  /** The other nodes of our cluster heard within their TTL, sorted by node id. */
  peers(): Announcement[] {
    return this.entries().map((e) => e.announcement);
  }

  /** The same with when each was last heard (for bootstrap-choice). */
  entries(): SeenAnnouncement[] {
    return this.table.list(this.now());
  }

  private tick(): void {
    const socket = this.socket;
    if (!socket) return;
    for (const lost of this.table.expire(this.now())) this.emit('lost', lost, 'expired');
    this.send(socket, encodeAnnouncement(this.announcement, this.options.ttlSeconds));
    const known = knownAnswers(this.table.list(this.now()), this.now());
    socket.query({ questions: [{ name: SERVICE_TYPE, type: 'PTR' }], answers: known }, this.warn);
    this.ticks += 1;
    const base = this.ticks < STARTUP_TICKS ? Math.min(STARTUP_INTERVAL_MS, this.options.intervalMs) : this.options.intervalMs;
    this.timer = setTimeout(() => this.tick(), base * (0.8 + 0.4 * this.random()));
  }

  private onQuery(packet: unknown): void {
    const socket = this.socket;
    if (socket && answersQuery(packet, this.announcement, this.options.ttlSeconds)) {
      this.send(socket, encodeAnnouncement(this.announcement, this.options.ttlSeconds));
    }
  }

  private onRecords(records: unknown[], from: string): void {
    const self = this.announcement;
    for (const decoded of decodeAnnouncements(records, { clusterId: self.clusterId, protocol: self.protocol })) {
      if (!decoded.ok) {
        this.reject({ reason: decoded.reason, instance: decoded.instance, detail: decoded.detail, from });
        continue;
      }
      const { announcement: a, instance, ttlSeconds } = decoded;
      if (a.nodeId === self.nodeId) {
        // Our own packets come back through multicast loopback; anything else using our id is a misconfiguration.
        if (a.host !== self.host || a.grpcPort !== self.grpcPort) {
          this.reject({ reason: 'node-id-conflict', instance, detail: `${a.host}:${a.grpcPort} also claims node id ${a.nodeId}`, from });
        }
        continue;
      }
      if (ttlSeconds === 0) {
        if (this.table.removeIfSame(a)) this.emit('lost', a, 'goodbye');
        continue;
      }
      // Capped: an absurd TTL from a stranger must not pin a dead entry for days.
      const result = this.table.upsert(a, this.now(), Math.min(ttlSeconds, MAX_TTL_SECONDS) * 1000);
      if (result === 'new' || result === 'changed') this.emit('peer', a);
      if (result === 'full') this.reject({ reason: 'table-full', instance, detail: `more than ${this.options.maxPeers} peers`, from });
    }
  }

  private reject(rejection: DiscoveryRejection): void {
    if (this.reported.allow(`${rejection.reason}|${rejection.instance}|${rejection.from}`, this.now())) this.emit('rejected', rejection);
  }

  private send(socket: makeMdns.MulticastDNS, answers: Answer[]): void {
    socket.respond({ answers }, this.warn);
  }

  /** Send failures (an interface going down) are not fatal: the next tick tries again. */
  private readonly warn = (err: Error | null): void => {
    if (err) this.emit('warning', err);
  };
}
