import type { Answer } from 'dns-packet';
import { z } from 'zod';
import { SERVICE_TYPE, encodeAnnouncement, instanceName, type Announcement } from './announcement.js';
import type { SeenAnnouncement } from './peer-table.js';

/**
 * The query side of mDNS: which incoming queries we answer, and the known answers we put in our
 * own queries so that peers we already know stay quiet (RFC 6762 section 7.1). Without that,
 * every periodic query from each of n nodes would draw n answers.
 */

const querySchema = z.object({
  questions: z.array(z.object({ name: z.string(), type: z.string() })).default([]),
  answers: z.array(z.object({ name: z.string(), type: z.string(), ttl: z.number(), data: z.unknown() }).passthrough()).default([]),
});

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Whether `packet` (an incoming query, unvalidated) asks for our records and does not already know them. */
export function answersQuery(packet: unknown, self: Announcement, ttlSeconds: number): boolean {
  const parsed = querySchema.safeParse(packet);
  if (!parsed.success) return false;
  const ours = encodeAnnouncement(self, ttlSeconds);
  const asked = parsed.data.questions.some((q) => ours.some((r) => sameName(q.name, r.name) && (q.type === r.type || q.type === 'ANY')));
  if (!asked) return false;
  // The asker already holds our PTR with at least half its lifetime left: it needs nothing from us.
  const instance = instanceName(self);
  const known = parsed.data.answers.some(
    (a) => a.type === 'PTR' && sameName(a.name, SERVICE_TYPE) && typeof a.data === 'string' && sameName(a.data, instance) && a.ttl >= ttlSeconds / 2,
  );
  return !known;
}

/** Keeps a query well inside one unfragmented datagram; peers beyond it just answer once more. */
const MAX_KNOWN_ANSWERS = 32;

/** Our current view as PTR records with their remaining TTL, for the answer section of a query. */
export function knownAnswers(entries: readonly SeenAnnouncement[], now: number): Answer[] {
  return entries.slice(0, MAX_KNOWN_ANSWERS).map((e) => ({
    name: SERVICE_TYPE,
    type: 'PTR' as const,
    ttl: Math.max(0, Math.floor((e.expiresAt - now) / 1000)),
    data: instanceName(e.announcement),
  }));
}
