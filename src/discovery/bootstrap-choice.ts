import { addressOf, type Announcement } from './announcement.js';
import { compareIds } from './peer-table.js';

/**
 * Which node of a brand-new cluster creates it. Every node runs this on what it has seen; the rule
 * (the lowest node id among those seen bootstraps, the others join it) needs no coordination,
 * only that nodes agree on the order of ids, hence plain code-unit comparison.
 *
 * This only decides among fresh nodes: asking candidates whether a cluster already runs (and
 * joining it) comes first, in the node layer.
 */

export interface Sighting {
  readonly announcement: Announcement;
  /** When it was last heard, on the same clock as `now`. */
  readonly seenAt: number;
}

export interface BootstrapInput {
  /** How many nodes the new cluster should start with, ourselves included. */
  readonly expectedSize: number;
  /** Our own announcement: our id, and our address for the member list. */
  readonly self: Announcement;
  /** Announcements seen (mDNS, static peers' answers); other clusters' are ignored. */
  readonly seen: readonly Sighting[];
  readonly now: number;
  /** Sightings older than this are stale (a node that went away) and do not count. */
  readonly maxAgeMs: number;
}

export type BootstrapDecision =
  | { readonly action: 'wait'; readonly have: number; readonly expectedSize: number }
  | { readonly action: 'bootstrap'; readonly members: readonly Announcement[] }
  | { readonly action: 'join'; readonly via: Announcement };

export function chooseBootstrap(input: BootstrapInput): BootstrapDecision {
  const { expectedSize, self } = input;
  if (!Number.isInteger(expectedSize) || expectedSize < 1) throw new RangeError(`expectedSize must be a positive integer, got ${expectedSize}`);
  const members = [self, ...latestPerNode(input)].sort((a, b) => compareIds(a.nodeId, b.nodeId));
  if (members.length < expectedSize) return { action: 'wait', have: members.length, expectedSize };
  const lowest = members[0] ?? self; // never undefined: self is a member
  // Everyone seen is a founding member, even past expectedSize: they are all alive and waiting.
  return lowest.nodeId === self.nodeId ? { action: 'bootstrap', members } : { action: 'join', via: lowest };
}

/** One announcement per other node of our cluster: the newest fresh sighting (ties broken by address). */
function latestPerNode({ self, seen, now, maxAgeMs }: BootstrapInput): Announcement[] {
  const best = new Map<string, Sighting>();
  for (const s of seen) {
    const a = s.announcement;
    if (a.clusterId !== self.clusterId || a.protocol !== self.protocol || a.nodeId === self.nodeId) continue;
    if (now - s.seenAt > maxAgeMs) continue;
    const current = best.get(a.nodeId);
    if (!current || newer(s, current)) best.set(a.nodeId, s);
  }
  return [...best.values()].map((s) => s.announcement);
}

function newer(a: Sighting, b: Sighting): boolean {
  if (a.seenAt !== b.seenAt) return a.seenAt > b.seenAt;
  return addressOf(a.announcement) < addressOf(b.announcement);
}
