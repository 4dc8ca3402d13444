import { isIP } from 'node:net';
import { z } from 'zod';
import { addressOf, type Announcement } from './announcement.js';

/**
 * `--peers host:port,host:port` for networks where multicast does not pass (VLANs, some Wi-Fi,
 * VPNs). These are only addresses to probe: the node layer asks each one who it is over gRPC,
 * with the cluster secret, before treating it as a member.
 */

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

const hostname = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:port`, `1.2.3.4:port` or `[v6]:port`; null when it is none of them. */
function parseOne(item: string): PeerAddress | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(item);
  if (!match) return null;
  const [, v6, name, portText] = match;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  if (v6 !== undefined) return isIP(v6) === 6 ? { host: v6.toLowerCase(), port } : null;
  if (name === undefined || (isIP(name) !== 4 && !hostname.test(name))) return null;
  return { host: name.toLowerCase(), port };
}

/** The flag's (or LARDER_PEERS') value -> unique addresses, in the order given. Empty means none. */
export const staticPeersSchema = z.string().transform((value, ctx) => {
  const out = new Map<string, PeerAddress>();
  for (const item of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const peer = parseOne(item);
    if (!peer) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${item}" is not host:port (IPv6 as [addr]:port, port 1-65535)` });
      return z.NEVER;
    }
    out.set(formatAddress(peer), peer);
  }
  return [...out.values()];
});

/** Throws an Error naming the bad entry. */
export function parseStaticPeers(value: string): PeerAddress[] {
  const parsed = staticPeersSchema.safeParse(value);
  if (!parsed.success) throw new Error(`--peers: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

export function formatAddress(peer: PeerAddress): string {
  return addressOf({ host: peer.host, grpcPort: peer.port });
}

/**
 * Every address worth asking "who are you?": the static peers, then what mDNS announced, without
 * duplicates and without our own addresses (the node's advertise address, and its listen one).
 */
export function probeCandidates(input: {
  readonly staticPeers: readonly PeerAddress[];
  readonly discovered: readonly Announcement[];
  readonly self: readonly string[];
}): string[] {
  const self = new Set(input.self.map((s) => s.toLowerCase()));
  const all = [...input.staticPeers.map(formatAddress), ...input.discovered.map(addressOf)];
  return [...new Set(all.map((a) => a.toLowerCase()))].filter((a) => !self.has(a));
}
