import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { announcementSchema, encodeAnnouncement, instanceLabel, instanceName, type Announcement } from './announcement.js';
import { decodeAnnouncements, type Decoded } from './decode.js';

const node: Announcement = { clusterId: 'office', nodeId: 'n1', host: '192.168.1.20', grpcPort: 7401, protocol: 1 };
const expect1 = { clusterId: 'office', protocol: 1 };

/** Through the real wire format, as a peer would receive it. */
function overTheWire(records: ReturnType<typeof encodeAnnouncement>): unknown[] {
  const decoded = dnsPacket.decode(dnsPacket.encode({ type: 'response', answers: records }));
  return [...(decoded.answers ?? []), ...(decoded.additionals ?? [])];
}

/** The records with one of them changed (or removed, when `change` returns null). */
function tamper(type: string, change: (r: Record<string, unknown>) => Record<string, unknown> | null): unknown[] {
  return encodeAnnouncement(node, 30).flatMap<unknown>((r) => {
    if (r.type !== type) return [r];
    const changed = change({ ...r });
    return changed ? [changed] : [];
  });
}

function only(results: Decoded[]): Decoded {
  expect(results).toHaveLength(1);
  return results[0]!;
}

describe('announcement encoding', () => {
  it('round-trips through the DNS wire format', () => {
    const result = only(decodeAnnouncements(overTheWire(encodeAnnouncement(node, 30)), expect1));
    expect(result).toEqual({ ok: true, announcement: node, instance: instanceName(node), ttlSeconds: 30 });
  });

  it('round-trips an IPv6 host as AAAA', () => {
    const v6 = { ...node, host: 'fd00::2' };
    const records = encodeAnnouncement(v6, 30);
    expect(records.map((r) => r.type)).toEqual(['PTR', 'SRV', 'TXT', 'AAAA']);
    expect(only(decodeAnnouncements(overTheWire(records), expect1))).toMatchObject({ ok: true, announcement: v6 });
  });

  it('encodes a goodbye as TTL 0', () => {
    expect(only(decodeAnnouncements(overTheWire(encodeAnnouncement(node, 0)), expect1))).toMatchObject({ ok: true, ttlSeconds: 0 });
  });

  it('keeps instance labels short, dot-free and distinct', () => {
    expect(instanceLabel('office', 'n1')).toBe('office-n1');
    const long = instanceLabel('c'.repeat(64), 'n'.repeat(63));
    const dotted = instanceLabel('my.cluster', 'n.1');
    const dotted2 = instanceLabel('my_cluster', 'n_1');
    for (const label of [long, dotted, dotted2]) expect(label).toMatch(/^[A-Za-z0-9_-]{1,63}$/);
    expect(dotted).not.toBe(dotted2);
    const big = { ...node, clusterId: 'c.'.repeat(32), nodeId: 'x'.repeat(63) };
    expect(only(decodeAnnouncements(overTheWire(encodeAnnouncement(big, 5)), { clusterId: big.clusterId, protocol: 1 }))).toMatchObject({
      ok: true,
      announcement: big,
    });
  });

  it('accepts only reachable IP addresses and valid ports', () => {
    expect(announcementSchema.safeParse({ ...node, host: 'files.local' }).success).toBe(false);
    expect(announcementSchema.safeParse({ ...node, host: '0.0.0.0' }).success).toBe(false);
    expect(announcementSchema.safeParse({ ...node, grpcPort: 0 }).success).toBe(false);
    expect(announcementSchema.safeParse({ ...node, nodeId: 'bad id' }).success).toBe(false);
  });
});

describe('announcement decoding rejects', () => {
  const reject = (records: unknown[], expectation = expect1) => only(decodeAnnouncements(records, expectation));

  it.each([
    ['SRV port 0', 'bad SRV', tamper('SRV', (r) => ({ ...r, data: { port: 0, target: instanceLabel('office', 'n1') + '.local' } }))],
    ['SRV port out of range', 'bad SRV', tamper('SRV', (r) => ({ ...r, data: { port: 70000, target: instanceLabel('office', 'n1') + '.local' } }))],
    ['no SRV', 'no SRV', tamper('SRV', () => null)],
    ['no TXT', 'no TXT record', tamper('TXT', () => null)],
    ['TXT without node', 'nodeId', tamper('TXT', (r) => ({ ...r, data: [Buffer.from('cluster=office'), Buffer.from('proto=1')] }))],
    ['TXT without cluster', 'no TXT cluster', tamper('TXT', (r) => ({ ...r, data: ['node=n1', 'proto=1'] }))],
    ['TXT without proto', 'TXT proto', tamper('TXT', (r) => ({ ...r, data: ['cluster=office', 'node=n1'] }))],
    ['TXT not text', 'unreadable TXT', tamper('TXT', (r) => ({ ...r, data: 42 }))],
    ['no address record', 'no address record', tamper('A', () => null)],
    ['address not an IP', 'host: expected', tamper('A', (r) => ({ ...r, data: 'not-an-ip' }))],
    ['wildcard address', 'wildcard', tamper('A', (r) => ({ ...r, data: '0.0.0.0' }))],
    ['bad node id', 'nodeId: letters', tamper('TXT', (r) => ({ ...r, data: ['cluster=office', 'node=../etc', 'proto=1'] }))],
  ])('%s as malformed', (_name, detail, records) => {
    const result = reject(records);
    expect(result).toMatchObject({ ok: false, reason: 'malformed', instance: instanceName(node) });
    expect(result.ok ? '' : result.detail).toContain(detail);
  });

  it('another cluster', () => {
    expect(reject(encodeAnnouncement(node, 30), { clusterId: 'home', protocol: 1 })).toMatchObject({ ok: false, reason: 'foreign-cluster' });
  });

  it('another protocol version, before reading anything else', () => {
    const future = tamper('TXT', (r) => ({ ...r, data: ['proto=2', 'layout=new'] }));
    expect(reject(future)).toMatchObject({ ok: false, reason: 'protocol' });
  });

  it('nothing for records of other services or garbage', () => {
    const other = { name: '_http._tcp.local', type: 'PTR', ttl: 120, data: 'printer._http._tcp.local' };
    expect(decodeAnnouncements([other, null, 'junk', { name: 1 }, { type: 'PTR' }], expect1)).toEqual([]);
  });

  it('but keeps the good instance when a packet mixes good and bad ones', () => {
    const good = encodeAnnouncement({ ...node, nodeId: 'n2' }, 30);
    const results = decodeAnnouncements([...good, ...tamper('SRV', () => null)], expect1);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
  });
});
