import { describe, expect, it } from 'vitest';
import type { Announcement } from './announcement.js';
import { OncePer } from './once-per.js';
import { PeerTable, compareIds } from './peer-table.js';

const a = (nodeId: string, grpcPort = 7401): Announcement => ({ clusterId: 'c', nodeId, host: '10.0.0.1', grpcPort, protocol: 1 });

describe('PeerTable', () => {
  it('tells new, refreshed and changed apart', () => {
    const t = new PeerTable();
    expect(t.upsert(a('n2'), 0, 1000)).toBe('new');
    expect(t.upsert(a('n2'), 500, 1000)).toBe('refreshed');
    expect(t.upsert(a('n2', 7500), 600, 1000)).toBe('changed');
    // Re-heard after it had expired: new again, so the caller announces it again.
    expect(t.upsert(a('n2', 7500), 5000, 1000)).toBe('new');
  });

  it('expires entries not re-announced within their TTL', () => {
    const t = new PeerTable();
    t.upsert(a('n2'), 0, 1000);
    t.upsert(a('n3'), 0, 3000);
    expect(t.list(999).map((e) => e.announcement.nodeId)).toEqual(['n2', 'n3']);
    expect(t.list(1000).map((e) => e.announcement.nodeId)).toEqual(['n3']);
    expect(t.expire(1000).map((x) => x.nodeId)).toEqual(['n2']);
    expect(t.expire(1000)).toEqual([]);
  });

  it('lists in id order', () => {
    const t = new PeerTable();
    for (const id of ['n3', 'N1', 'n10', 'n2']) t.upsert(a(id), 0, 1000);
    expect(t.list(0).map((e) => e.announcement.nodeId)).toEqual(['N1', 'n10', 'n2', 'n3']);
  });

  it('ignores a goodbye for an address it no longer knows', () => {
    const t = new PeerTable();
    t.upsert(a('n2', 7500), 0, 1000);
    expect(t.removeIfSame(a('n2', 7401))).toBe(false);
    expect(t.removeIfSame(a('n2', 7500))).toBe(true);
    expect(t.list(0)).toEqual([]);
  });

  it('is bounded', () => {
    const t = new PeerTable(2);
    t.upsert(a('n1'), 0, 1000);
    t.upsert(a('n2'), 0, 1000);
    expect(t.upsert(a('n3'), 0, 1000)).toBe('full');
    expect(t.upsert(a('n1'), 10, 1000)).toBe('refreshed');
  });

  it('compares ids by code unit, independent of locale', () => {
    expect(['b', 'B', 'a', 'A', '10', '9'].sort(compareIds)).toEqual(['10', '9', 'A', 'B', 'a', 'b']);
  });
});

describe('OncePer', () => {
  it('lets a key through once per period', () => {
    const once = new OncePer(1000, 2);
    expect(once.allow('x', 0)).toBe(true);
    expect(once.allow('x', 999)).toBe(false);
    expect(once.allow('y', 999)).toBe(true);
    expect(once.allow('x', 1000)).toBe(true);
    // At the bound it forgets rather than grows.
    expect(once.allow('z', 1000)).toBe(true);
    expect(once.allow('y', 1001)).toBe(true);
  });
});
