import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import {
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  status,
  type ChannelCredentials,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deriveClusterCa,
  generateSecret,
  issueIdentity,
  loadOrCreateIdentity,
  parseSecret,
  peerChannelCredentials,
  peerServerCredentials,
  verifyPeerCertificate,
} from './index.js';

const bytes = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const pingService: ServiceDefinition = {
  ping: {
    path: '/larder.test.Trust/Ping',
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes.serialize,
    requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  },
};
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.forceShutdown();
});

async function serve(creds: ServerCredentials): Promise<string> {
  const server = new Server();
  server.addService(pingService, { ping: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from('pong')) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  servers.push(server);
  return `127.0.0.1:${port}`;
}

function ping(address: string, creds: ChannelCredentials): Promise<string> {
  const Client = makeGenericClientConstructor(pingService, 'Trust');
  const client = new Client(address, creds);
  return new Promise<string>((resolve, reject) =>
    client.makeUnaryRequest(
      '/larder.test.Trust/Ping',
      bytes.serialize,
      bytes.deserialize,
      Buffer.from('ping'),
      { deadline: Date.now() + 3000 },
      (e: ServiceError | null, r?: Buffer) => {
        client.close();
        if (e) reject(e);
        else resolve(r!.toString());
      },
    ),
  );
}

async function node(secret: string, nodeId: string, clusterId = 'office') {
  const ca = await deriveClusterCa(parseSecret(secret), clusterId);
  const id = await issueIdentity(nodeId, ca);
  return { ca, id, server: peerServerCredentials(id, ca), client: peerChannelCredentials(id, ca) };
}

describe('cluster secret', () => {
  it('round-trips, and a bad one is refused with what a secret looks like', () => {
    const s = generateSecret();
    expect(s).toMatch(/^lsec1-[a-z2-7]{52}$/);
    expect(parseSecret(s)).toHaveLength(32);
    expect(parseSecret(`  ${s.toUpperCase()} `)).toEqual(parseSecret(s));
    expect(generateSecret()).not.toBe(s);
    expect(() => parseSecret('hunter2')).toThrow(/starts with "lsec1-"/);
    expect(() => parseSecret(`lsec1-${'a'.repeat(51)}1`)).toThrow(/a-z and 2-7/);
    expect(() => parseSecret(`lsec1-${'a'.repeat(50)}`)).toThrow(/52 characters/);
  });
});

describe('the cluster CA', () => {
  it('is the same key on every node with the secret, and another with another secret or cluster id', async () => {
    const secret = generateSecret();
    const [a, b, other, otherCluster] = await Promise.all([
      deriveClusterCa(parseSecret(secret), 'office'),
      deriveClusterCa(parseSecret(secret), 'office'),
      deriveClusterCa(parseSecret(generateSecret()), 'office'),
      deriveClusterCa(parseSecret(secret), 'lab'),
    ]);
    const spki = (pem: string): string => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
    expect(spki(a.certPem)).toBe(spki(b.certPem));
    expect(spki(a.certPem)).not.toBe(spki(other.certPem));
    expect(spki(a.certPem)).not.toBe(spki(otherCluster.certPem));
    // A node certificate issued on one node verifies under the CA another node derived.
    const leaf = await issueIdentity('n1', a);
    expect(verifyPeerCertificate(new X509Certificate(leaf.certPem).raw, b.certPem)).toEqual({ ok: true, nodeId: 'n1' });
    expect(verifyPeerCertificate(new X509Certificate(leaf.certPem).raw, other.certPem)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not issued by this cluster/),
    });
  });

  it('keeps a node identity on disk (key 0600) and replaces it when the secret changes', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'larder-trust-')), 'trust');
    const ca = await deriveClusterCa(parseSecret(generateSecret()), 'office');
    const first = await loadOrCreateIdentity(dir, 'n1', ca);
    expect(statSync(join(dir, 'node-key.pem')).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateIdentity(dir, 'n1', ca)).toEqual(first);
    const newCa = await deriveClusterCa(parseSecret(generateSecret()), 'office');
    const second = await loadOrCreateIdentity(dir, 'n1', newCa);
    expect(second.certPem).not.toBe(first.certPem);
    expect(readFileSync(join(dir, 'node-cert.pem'), 'utf8')).toBe(second.certPem);
    expect(verifyPeerCertificate(new X509Certificate(second.certPem).raw, newCa.certPem).ok).toBe(true);
  });
});

describe('mutual TLS between peers', () => {
  it('connects nodes that share the secret; refuses a node with another secret, one without a certificate, and a server without the secret', async () => {
    const secret = generateSecret();
    const a = await node(secret, 'n1');
    const b = await node(secret, 'n2');
    const rogue = await node(generateSecret(), 'n1'); // right cluster id and node id, wrong secret
    const address = await serve(a.server);
    await expect(ping(address, b.client)).resolves.toBe('pong');
    await expect(ping(address, rogue.client)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(ping(address, credentials.createSsl(Buffer.from(a.ca.certPem)))).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(ping(address, credentials.createInsecure())).rejects.toMatchObject({ code: status.UNAVAILABLE });
    // A rogue server cannot pose as a peer: the real node does not trust it, so sends it nothing.
    const rogueAddress = await serve(rogue.server);
    await expect(ping(rogueAddress, b.client)).rejects.toMatchObject({ code: status.UNAVAILABLE });
  }, 30_000);
});
