import { describe, expect, it } from 'vitest';
import { formatAddress, parseStaticPeers, probeCandidates, staticPeersSchema } from './static-peers.js';

describe('--peers', () => {
  it('parses IPv4, hostnames and bracketed IPv6, dropping blanks and duplicates', () => {
    expect(parseStaticPeers(' 10.0.0.2:7401, nas.local:7402,,[FD00::3]:7403,10.0.0.2:7401 ')).toEqual([
      { host: '10.0.0.2', port: 7401 },
      { host: 'nas.local', port: 7402 },
      { host: 'fd00::3', port: 7403 },
    ]);
    expect(parseStaticPeers('')).toEqual([]);
  });

  it.each(['10.0.0.2', '10.0.0.2:0', '10.0.0.2:65536', 'fd00::3:7401', '[nope]:7401', 'bad host:1', 'a_b:1', ':7401', 'h:12a'])(
    'rejects %j, naming it',
    (bad) => {
      expect(() => parseStaticPeers(`10.0.0.9:1,${bad}`)).toThrow(`"${bad}"`);
      expect(staticPeersSchema.safeParse(bad).success).toBe(false);
    },
  );

  it('formats back what it parses', () => {
    for (const s of ['10.0.0.2:7401', 'nas.local:1', '[fd00::3]:7403']) expect(parseStaticPeers(s).map(formatAddress)).toEqual([s]);
  });
});

describe('probe candidates', () => {
  it('merges static peers and announcements, without duplicates or ourselves', () => {
    const discovered = [
      { clusterId: 'c', nodeId: 'n2', host: '10.0.0.2', grpcPort: 7401, protocol: 1 },
      { clusterId: 'c', nodeId: 'n4', host: 'fd00::4', grpcPort: 7401, protocol: 1 },
    ];
    const staticPeers = parseStaticPeers('10.0.0.1:7401,10.0.0.2:7401,nas.local:7401');
    expect(probeCandidates({ staticPeers, discovered, self: ['10.0.0.1:7401'] })).toEqual(['10.0.0.2:7401', 'nas.local:7401', '[fd00::4]:7401']);
  });
});
