import { z } from 'zod';
import { SERVICE_TYPE, announcementSchema, type Announcement } from './announcement.js';

/**
 * Turns the records of one mDNS packet back into announcements. Everything here came off the
 * network, from anyone on the LAN: each record is validated, and an instance that is not a
 * complete, well-formed Larder announcement of our cluster and protocol is rejected with a reason.
 */

/** `malformed`: broken or incomplete; the other two are well-formed records that are not for us. */
export type RejectReason = 'malformed' | 'foreign-cluster' | 'protocol';

export type Decoded =
  | { readonly ok: true; readonly announcement: Announcement; readonly instance: string; readonly ttlSeconds: number }
  | { readonly ok: false; readonly reason: RejectReason; readonly instance: string; readonly detail: string };

export interface DecodeExpectation {
  readonly clusterId: string;
  readonly protocol: number;
}

const recordSchema = z.object({ name: z.string(), type: z.string(), ttl: z.number().int().min(0), data: z.unknown() });
type RawRecord = z.infer<typeof recordSchema>;

const srvSchema = z.object({ port: z.number().int().min(1).max(65535), target: z.string().min(1) });
const bytes = z.union([z.string(), z.instanceof(Uint8Array)]);
const txtSchema = z.union([bytes, z.array(bytes)]);

/** DNS names compare case-insensitively. */
const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Every Larder instance the packet's records (answers and additionals together) describe. */
export function decodeAnnouncements(records: readonly unknown[], expect: DecodeExpectation): Decoded[] {
  const valid = records.flatMap((r) => {
    const parsed = recordSchema.safeParse(r);
    return parsed.success ? [parsed.data] : [];
  });
  const instances = new Map<string, RawRecord>();
  for (const ptr of valid.filter((r) => r.type === 'PTR' && sameName(r.name, SERVICE_TYPE))) {
    if (typeof ptr.data !== 'string') continue; // dns-packet always decodes PTR data as a string
    if (!instances.has(ptr.data.toLowerCase())) instances.set(ptr.data.toLowerCase(), ptr);
  }
  return [...instances.values()].map((ptr) => decodeInstance(ptr, valid, expect));
}

function decodeInstance(ptr: RawRecord, records: readonly RawRecord[], expect: DecodeExpectation): Decoded {
  const instance = String(ptr.data);
  const reject = (reason: RejectReason, detail: string): Decoded => ({ ok: false, reason, instance, detail });
  const find = (type: string, name: string) => records.find((r) => r.type === type && sameName(r.name, name));

  const txtRecord = find('TXT', instance);
  if (!txtRecord) return reject('malformed', 'no TXT record');
  const txt = parseTxt(txtRecord.data);
  if (!txt) return reject('malformed', 'unreadable TXT record');
  // Protocol first: a future version may lay out everything else differently.
  const proto = txt.get('proto');
  if (proto === undefined || !/^\d{1,6}$/.test(proto)) return reject('malformed', `TXT proto is ${JSON.stringify(proto)}`);
  if (Number(proto) !== expect.protocol) return reject('protocol', `protocol ${proto}, we speak ${expect.protocol}`);
  const cluster = txt.get('cluster');
  if (cluster === undefined) return reject('malformed', 'no TXT cluster');
  if (cluster !== expect.clusterId) return reject('foreign-cluster', `cluster ${JSON.stringify(cluster)}`);

  const srvRecord = find('SRV', instance);
  if (!srvRecord) return reject('malformed', 'no SRV record');
  const srv = srvSchema.safeParse(srvRecord.data);
  if (!srv.success) return reject('malformed', `bad SRV record: ${srv.error.issues[0]?.message ?? 'invalid'}`);
  const address = find('A', srv.data.target) ?? find('AAAA', srv.data.target);
  if (!address) return reject('malformed', `no address record for ${srv.data.target}`);

  const parsed = announcementSchema.safeParse({
    clusterId: cluster,
    nodeId: txt.get('node'),
    host: address.data,
    grpcPort: srv.data.port,
    protocol: Number(proto),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject('malformed', `${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  // A goodbye sets every TTL to 0; the smallest one is when the whole set goes stale.
  const ttlSeconds = Math.min(ptr.ttl, txtRecord.ttl, srvRecord.ttl, address.ttl);
  return { ok: true, announcement: parsed.data, instance, ttlSeconds };
}

/** RFC 6763 section 6: `key=value` strings, keys case-insensitive, the first occurrence wins. */
function parseTxt(data: unknown): Map<string, string> | null {
  const parsed = txtSchema.safeParse(data);
  if (!parsed.success) return null;
  const out = new Map<string, string>();
  for (const item of Array.isArray(parsed.data) ? parsed.data : [parsed.data]) {
    const text = typeof item === 'string' ? item : Buffer.from(item).toString('utf8');
    const eq = text.indexOf('=');
    if (eq <= 0) continue; // boolean attributes and empty keys carry nothing we use
    const key = text.slice(0, eq).toLowerCase();
    if (!out.has(key)) out.set(key, text.slice(eq + 1));
  }
  return out;
}
