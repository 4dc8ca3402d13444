import { z } from 'zod';
import { announcementSchema, type Announcement } from './announcement.js';
import type { RejectReason } from './decode.js';

/** MdnsDiscovery's options, validated once at construction, and the events it emits. */

export const mdnsOptionsSchema = z
  .object({
    announce: announcementSchema,
    /** The interface address to multicast on (e.g. '127.0.0.1'); default: every IPv4 interface. */
    interface: z.string().min(1).optional(),
    /** The address the socket binds to; default '0.0.0.0' when `interface` is set (see start()). */
    bind: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).default(5353),
    ttlSeconds: z.number().int().min(1).max(3600).default(30),
    intervalMs: z.number().int().min(50).default(10_000),
    maxPeers: z.number().int().min(1).default(256),
    /** The same rejection (reason, instance, source) is reported at most once per this period. */
    rejectReportMs: z.number().int().min(0).default(60_000),
  })
  // Re-announcements come every intervalMs, +20% jitter at worst: at 40% of the TTL, one lost
  // packet still leaves the next one in time to keep a live peer from expiring.
  .refine((o) => o.intervalMs * 2.5 <= o.ttlSeconds * 1000, {
    message: 'intervalMs must be at most 40% of ttlSeconds, so one lost announcement does not expire a live peer',
  });

export type MdnsDiscoveryOptions = z.input<typeof mdnsOptionsSchema> & {
  /** In [0, 1); jitters the re-announce period so nodes started together do not stay in step. */
  random?: () => number;
  now?: () => number;
};

export type DiscoveryRejection = {
  /** `node-id-conflict`: another address announces our own node id; `table-full`: see maxPeers. */
  readonly reason: RejectReason | 'node-id-conflict' | 'table-full';
  readonly instance: string;
  readonly detail: string;
  /** The packet's source address, for the log. */
  readonly from: string;
};

export type DiscoveryEvents = {
  peer: [announcement: Announcement];
  lost: [announcement: Announcement, why: 'expired' | 'goodbye'];
  rejected: [rejection: DiscoveryRejection];
  warning: [error: Error];
};

export type MdnsOptions = z.output<typeof mdnsOptionsSchema>;
