import { Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../raft/index.js';
import { PeerTransport } from './peer-transport.js';
import type { PeerHandlers } from './types.js';

const insecure = { server: ServerCredentials.createInsecure(), client: credentials.createInsecure() };

interface Node {
  transport: PeerTransport;
  server: Server;
  received: Message[];
  unreachable: string[];
  snapshotStatus: [string, boolean][];
  chunks: Map<string, Uint8Array>;
}

const started: Node[] = [];
const addresses = new Map<string, string>();

async function startNode(id: string, clusterId = 'c1'): Promise<Node> {
  const node = { received: [], unreachable: [], snapshotStatus: [], chunks: new Map() } as unknown as Node;
  const handlers: PeerHandlers = {
    onMessage: (m) => node.received.push(m),
    onUnreachable: (p) => node.unreachable.push(p),
    onSnapshotStatus: (p, ok) => node.snapshotStatus.push([p, ok]),
    readChunk: async (h) => node.chunks.get(h) ?? null,
  };
  node.transport = new PeerTransport({ nodeId: id, clusterId, credentials: insecure, handlers, resolveAddress: (p) => addresses.get(p) ?? null });
  node.server = new Server();
  const svc = node.transport.service();
  node.server.addService(svc.definition, svc.implementation);
  const port = await new Promise<number>((res, rej) => node.server.bindAsync('127.0.0.1:0', insecure.server, (e, p) => (e ? rej(e) : res(p))));
  addresses.set(id, `127.0.0.1:${port}`);
  started.push(node);
  return node;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(() => {
  for (const n of started.splice(0)) {
    n.transport.close();
    n.server.forceShutdown();
  }
  addresses.clear();
});

describe('peer transport over gRPC on 127.0.0.1', () => {
  it('delivers batches in order on one long-lived stream', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    const msgs: Message[] = Array.from({ length: 500 }, (_, i) => ({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: i, context: null }));
    for (let i = 0; i < msgs.length; i += 50) a.transport.send(msgs.slice(i, i + 50));
    await until(() => b.received.length === 500);
    expect(b.received).toEqual(msgs);
  });

  it('streams a snapshot in pieces and reports success', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 251);
    a.transport.send([
      { type: 'snap', from: 'a', to: 'b', term: 2, snapshot: { metadata: { index: 9, term: 2, confState: { voters: ['a', 'b'], learners: [] } }, data } },
    ]);
    await until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([['b', true]]);
    const got = b.received[0];
    expect(got?.type === 'snap' && Buffer.from(got.snapshot.data).equals(Buffer.from(data))).toBe(true);
  });

  it('fetches a chunk by hash, and says clearly when a peer lacks it', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    const hash = 'ab'.repeat(32);
    b.chunks.set(hash, new Uint8Array([1, 2, 3]));
    expect([...(await a.transport.fetchChunk('b', hash))]).toEqual([1, 2, 3]);
    await expect(a.transport.fetchChunk('b', 'cd'.repeat(32))).rejects.toMatchObject({ code: 'CHUNK_NOT_FOUND' });
    await expect(a.transport.fetchChunk('b', 'not-a-hash')).rejects.toThrow(/not a SHA-256/);
  });

  it('refuses traffic from another cluster and reports the peer unreachable', async () => {
    const a = await startNode('a', 'other-cluster');
    const b = await startNode('b', 'c1');
    a.transport.send([{ type: 'timeoutNow', from: 'a', to: 'b', term: 1 }]);
    await until(() => a.unreachable.includes('b'));
    expect(b.received).toEqual([]);
  });

  it('reports an unknown or dead peer as unreachable', async () => {
    const a = await startNode('a');
    a.transport.send([{ type: 'timeoutNow', from: 'a', to: 'nobody', term: 1 }]);
    expect(a.unreachable).toEqual(['nobody']);
    addresses.set('dead', '127.0.0.1:1');
    a.transport.send([{ type: 'timeoutNow', from: 'a', to: 'dead', term: 1 }]);
    await until(() => a.unreachable.includes('dead'));
  });
});
