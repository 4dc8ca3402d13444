import { describe, expect, it } from 'vitest';
import type { Announcement } from './announcement.js';
import { chooseBootstrap, type Sighting } from './bootstrap-choice.js';

const ann = (nodeId: string, host = '10.0.0.1', extra: Partial<Announcement> = {}): Announcement => ({
  clusterId: 'office',
  nodeId,
  host,
  grpcPort: 7401,
  protocol: 1,
  ...extra,
});
const saw = (a: Announcement, seenAt = 1000): Sighting => ({ announcement: a, seenAt });
const decide = (self: Announcement, seen: Sighting[], expectedSize = 3) => chooseBootstrap({ expectedSize, self, seen, now: 1000, maxAgeMs: 500 });
const ids = (xs: readonly Announcement[]) => xs.map((x) => x.nodeId);

describe('bootstrap choice', () => {
  it('waits until the expected size is seen, counting ourselves', () => {
    expect(decide(ann('b'), [])).toEqual({ action: 'wait', have: 1, expectedSize: 3 });
    expect(decide(ann('b'), [saw(ann('c'))])).toEqual({ action: 'wait', have: 2, expectedSize: 3 });
  });

  it('lets the lowest id bootstrap with everyone, and the others join it', () => {
    const [a, b, c] = [ann('a', '10.0.0.1'), ann('b', '10.0.0.2'), ann('c', '10.0.0.3')];
    const result = decide(a, [saw(c), saw(b)]);
    expect(result.action).toBe('bootstrap');
    expect(result.action === 'bootstrap' && ids(result.members)).toEqual(['a', 'b', 'c']);
    expect(decide(b, [saw(a), saw(c)])).toEqual({ action: 'join', via: a });
    expect(decide(c, [saw(b), saw(a)])).toEqual({ action: 'join', via: a });
  });

  it('is a single node cluster at once with expected size 1', () => {
    expect(decide(ann('z'), [], 1)).toEqual({ action: 'bootstrap', members: [ann('z')] });
  });

  it('does not depend on the order sightings arrive in', () => {
    const seen = [saw(ann('n3')), saw(ann('n10')), saw(ann('n2')), saw(ann('N9'))];
    const first = decide(ann('n5'), seen, 4);
    expect(first).toEqual({ action: 'join', via: ann('N9') }); // code-unit order: 'N' < 'n'
    expect(decide(ann('n5'), [...seen].reverse(), 4)).toEqual(first);
  });

  it('counts duplicates once, and ignores our own echo, other clusters and other protocols', () => {
    const seen = [
      saw(ann('b')),
      saw(ann('b')),
      saw(ann('a', '10.9.9.9')),
      saw(ann('0', '10.0.0.9', { clusterId: 'home' })),
      saw(ann('1', '10.0.0.8', { protocol: 2 })),
    ];
    expect(decide(ann('a'), seen)).toEqual({ action: 'wait', have: 2, expectedSize: 3 });
  });

  it('ignores stale sightings, so a node that went away neither counts nor founds the cluster', () => {
    const seen = [saw(ann('a'), 400), saw(ann('c'), 999), saw(ann('d'), 500)];
    // 'a' was last heard 600 ms ago (> 500): b is now the lowest live id.
    const result = decide(ann('b'), seen);
    expect(result.action === 'bootstrap' && ids(result.members)).toEqual(['b', 'c', 'd']);
  });

  it('takes the newest address of a node seen at two, ties broken by address', () => {
    const seen = [saw(ann('a', '10.0.0.7'), 900), saw(ann('a', '10.0.0.5'), 950), saw(ann('c'))];
    expect(decide(ann('b'), seen)).toEqual({ action: 'join', via: ann('a', '10.0.0.5') });
    const tie = [saw(ann('a', '10.0.0.7'), 950), saw(ann('a', '10.0.0.5'), 950), saw(ann('c'))];
    expect(decide(ann('b'), tie)).toEqual({ action: 'join', via: ann('a', '10.0.0.5') });
    expect(decide(ann('b'), [...tie].reverse())).toEqual({ action: 'join', via: ann('a', '10.0.0.5') });
  });

  it('founds with everyone alive when more than the expected size is seen', () => {
    const result = decide(
      ann('a'),
      ['b', 'c', 'd'].map((id) => saw(ann(id))),
    );
    expect(result.action === 'bootstrap' && ids(result.members)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects a nonsensical expected size', () => {
    expect(() => decide(ann('a'), [], 0)).toThrow(RangeError);
  });
});
