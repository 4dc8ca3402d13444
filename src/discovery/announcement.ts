import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Answer } from 'dns-packet';
import { z } from 'zod';

/**
 * What a node announces on the LAN, and how it maps onto DNS-SD records (RFC 6763):
 *
 *   PTR  _larder._tcp.local        -> <instance>._larder._tcp.local
 *   SRV  <instance>._larder._tcp.local -> port = gRPC port, target = <instance>.local
 *   TXT  <instance>._larder._tcp.local -> cluster=<id> node=<id> proto=<n>
 *   A    <instance>.local          -> host (AAAA for an IPv6 host)
 *
 * An announcement is a hint about where a node might be, never proof of who it is: the node
 * layer authenticates peers with the cluster secret before trusting them with anything.
 */

export const SERVICE_TYPE = '_larder._tcp.local';
export const PROTOCOL_VERSION = 1;

/** Same shape as the node config's id (src/node/config.ts): it also keeps DNS labels short. */
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-", at most 63 characters');
export const clusterIdSchema = z.string().min(1).max(64);

const reachableIp = z
  .string()
  .refine((h) => isIP(h) !== 0, 'expected an IPv4 or IPv6 address (mDNS carries addresses, not names)')
  .refine((h) => h !== '0.0.0.0' && h !== '::', 'announce a reachable address, not the wildcard');

export const announcementSchema = z.object({
  clusterId: clusterIdSchema,
  nodeId: nodeIdSchema,
  host: reachableIp,
  grpcPort: z.number().int().min(1).max(65535),
  protocol: z.number().int().min(1),
});
export type Announcement = z.infer<typeof announcementSchema>;

/** `host:port` as the transport and `--peers` spell it (IPv6 in brackets). */
export function addressOf(a: Pick<Announcement, 'host' | 'grpcPort'>): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.grpcPort}` : `${a.host}:${a.grpcPort}`;
}

/**
 * The instance label `<clusterId>-<nodeId>`. dns-packet splits names on "." and silently
 * corrupts labels over 63 bytes, so anything else is replaced and disambiguated with a hash.
 * Nothing trusts this label: the identity travels in TXT.
 */
export function instanceLabel(clusterId: string, nodeId: string): string {
  const raw = `${clusterId}-${nodeId}`;
  const safe = raw.replace(/[^A-Za-z0-9_-]/g, '_');
  if (safe === raw && safe.length <= 63) return raw;
  const digest = createHash('sha256').update(`${clusterId}\0${nodeId}`).digest('hex').slice(0, 12);
  return `${safe.slice(0, 50)}-${digest}`;
}

export function instanceName(a: Pick<Announcement, 'clusterId' | 'nodeId'>): string {
  return `${instanceLabel(a.clusterId, a.nodeId)}.${SERVICE_TYPE}`;
}

/** The four records of one announcement; TTL 0 makes them a goodbye. */
export function encodeAnnouncement(a: Announcement, ttlSeconds: number): Answer[] {
  const instance = instanceName(a);
  const target = `${instanceLabel(a.clusterId, a.nodeId)}.local`;
  const txt = [`cluster=${a.clusterId}`, `node=${a.nodeId}`, `proto=${a.protocol}`].map((s) => Buffer.from(s));
  // flush (cache-flush bit): these records are unique to this instance, unlike the shared PTR.
  return [
    { name: SERVICE_TYPE, type: 'PTR', ttl: ttlSeconds, data: instance },
    { name: instance, type: 'SRV', ttl: ttlSeconds, flush: true, data: { port: a.grpcPort, target, priority: 0, weight: 0 } },
    { name: instance, type: 'TXT', ttl: ttlSeconds, flush: true, data: txt },
    { name: target, type: isIP(a.host) === 6 ? 'AAAA' : 'A', ttl: ttlSeconds, flush: true, data: a.host },
  ];
}
