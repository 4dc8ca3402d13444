import type { Announcement } from './announcement.js';

/**
 * The peers one node currently believes in, keyed by node id, each until its announcement's TTL
 * runs out. Pure: time is passed in, so expiry is tested without waiting.
 */

export interface SeenAnnouncement {
  readonly announcement: Announcement;
  /** When it was last heard (ms, the caller's clock). */
  readonly seenAt: number;
  readonly expiresAt: number;
}

/** `changed`: the same node id now announces another address (a restart, a new DHCP lease). */
export type UpsertResult = 'new' | 'changed' | 'refreshed' | 'full';

const sameAddress = (a: Announcement, b: Announcement): boolean => a.host === b.host && a.grpcPort === b.grpcPort && a.protocol === b.protocol;

export class PeerTable {
  private readonly byNode = new Map<string, SeenAnnouncement>();

  /** `maxPeers` bounds memory against a LAN device that invents node ids by the thousand. */
  constructor(private readonly maxPeers = 256) {}

  upsert(announcement: Announcement, now: number, ttlMs: number): UpsertResult {
    const previous = this.byNode.get(announcement.nodeId);
    if (!previous && this.byNode.size >= this.maxPeers) return 'full';
    this.byNode.set(announcement.nodeId, { announcement, seenAt: now, expiresAt: now + ttlMs });
    if (!previous || previous.expiresAt <= now) return 'new';
    return sameAddress(previous.announcement, announcement) ? 'refreshed' : 'changed';
  }

  /** A goodbye removes the entry only if it is for the address we know: a restarted node's new
   * announcement must not be undone by its old incarnation's late goodbye. */
  removeIfSame(announcement: Announcement): boolean {
    const current = this.byNode.get(announcement.nodeId);
    if (!current || !sameAddress(current.announcement, announcement)) return false;
    return this.byNode.delete(announcement.nodeId);
  }

  /** Removes and returns the entries whose TTL ran out. */
  expire(now: number): Announcement[] {
    const gone: Announcement[] = [];
    for (const [id, entry] of this.byNode) {
      if (entry.expiresAt <= now) {
        this.byNode.delete(id);
        gone.push(entry.announcement);
      }
    }
    return gone;
  }

  /** The live entries, sorted by node id so every caller sees one stable order. */
  list(now: number): SeenAnnouncement[] {
    return [...this.byNode.values()].filter((e) => e.expiresAt > now).sort((a, b) => compareIds(a.announcement.nodeId, b.announcement.nodeId));
  }

  clear(): void {
    this.byNode.clear();
  }
}

/** Code-unit order, not localeCompare: every node must sort ids the same way whatever its locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
