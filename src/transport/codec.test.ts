import { describe, expect, it } from 'vitest';
import type { Message } from '../raft/index.js';
import { RaftMessage, type RaftMessage_Type } from '../shared/proto/larder/v1/raft.js';
import { WireError, messageFromWire, messageToWire } from './codec.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const samples: Message[] = [
  { type: 'preVote', from: 'a', to: 'b', term: 3, lastLogIndex: 10, lastLogTerm: 2, transfer: false },
  { type: 'vote', from: 'a', to: 'b', term: 3, lastLogIndex: 10, lastLogTerm: 2, transfer: true },
  { type: 'voteResp', from: 'b', to: 'a', term: 3, reject: true },
  {
    type: 'app',
    from: 'a',
    to: 'b',
    term: 3,
    prevIndex: 9,
    prevTerm: 2,
    commit: 8,
    entries: [
      { kind: 'normal', term: 3, index: 10, data: bytes('hello') },
      { kind: 'normal', term: 3, index: 11, data: new Uint8Array(0) },
      { kind: 'confChange', term: 3, index: 12, change: { type: 'addLearner', node: 'c' } },
    ],
  },
  { type: 'appResp', from: 'b', to: 'a', term: 3, index: 9, reject: true, rejectHint: 5, logTerm: 2 },
  { type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 8, context: null },
  { type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 8, context: '' },
  { type: 'heartbeatResp', from: 'b', to: 'a', term: 3, context: 'r1' },
  { type: 'timeoutNow', from: 'a', to: 'b', term: 3 },
  { type: 'readIndex', from: 'b', to: 'a', term: 3, context: 'r2' },
  { type: 'readIndexResp', from: 'a', to: 'b', term: 3, context: 'r2', index: -1 },
];

describe('peer message codec', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s through protobuf bytes', (_t, m) => {
    const wire = RaftMessage.decode(RaftMessage.encode(messageToWire(m)).finish());
    expect(messageFromWire(wire)).toEqual(m);
  });

  it('carries a snapshot with its data beside the message', () => {
    const m: Message = {
      type: 'snap',
      from: 'a',
      to: 'b',
      term: 4,
      snapshot: { metadata: { index: 40, term: 3, confState: { voters: ['a', 'b'], learners: ['c'] } }, data: bytes('state') },
    };
    const wire = RaftMessage.decode(RaftMessage.encode(messageToWire(m)).finish());
    expect(messageFromWire(wire, bytes('state'))).toEqual(m);
    expect(() => messageFromWire(wire)).toThrow(WireError);
  });

  it('rejects malformed messages with a clear error', () => {
    const good = messageToWire(samples[3]!);
    expect(() => messageFromWire({ ...good, type: 99 as RaftMessage_Type })).toThrow(/unknown message type/);
    expect(() => messageFromWire({ ...good, from: '' })).toThrow(/without from/);
    expect(() => messageFromWire({ ...good, entries: [{ term: 1, index: 0, data: Buffer.alloc(0), confChange: undefined }] })).toThrow(/bad index/);
    expect(() => messageFromWire({ ...good, entries: [{ term: 1, index: 3, data: Buffer.from('x'), confChange: { type: 1, node: 'c' } }] })).toThrow(
      /both data/,
    );
  });
});
