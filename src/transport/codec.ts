import type { ConfChange, ConfState, Entry, Message, MessageType, Snapshot } from '../raft/index.js';
import {
  ConfChange_Type,
  RaftMessage_Type,
  type ConfChange as WireConfChange,
  type ConfState as WireConfState,
  type Entry as WireEntry,
  RaftMessage,
} from '../shared/proto/larder/v1/raft.js';

/**
 * Translation between the core's messages (src/raft/types.ts) and the wire (proto/larder/v1/raft.proto).
 * Everything coming off the wire is validated: a peer's bytes are never trusted to be well formed.
 */

export class WireError extends Error {
  readonly code = 'BAD_PEER_MESSAGE';
  constructor(message: string) {
    super(`malformed peer message: ${message}`);
    this.name = 'WireError';
  }
}

const typeToWire: Record<MessageType, RaftMessage_Type> = {
  preVote: RaftMessage_Type.TYPE_PRE_VOTE,
  vote: RaftMessage_Type.TYPE_VOTE,
  preVoteResp: RaftMessage_Type.TYPE_PRE_VOTE_RESP,
  voteResp: RaftMessage_Type.TYPE_VOTE_RESP,
  app: RaftMessage_Type.TYPE_APP,
  appResp: RaftMessage_Type.TYPE_APP_RESP,
  heartbeat: RaftMessage_Type.TYPE_HEARTBEAT,
  heartbeatResp: RaftMessage_Type.TYPE_HEARTBEAT_RESP,
  snap: RaftMessage_Type.TYPE_SNAP,
  timeoutNow: RaftMessage_Type.TYPE_TIMEOUT_NOW,
  readIndex: RaftMessage_Type.TYPE_READ_INDEX,
  readIndexResp: RaftMessage_Type.TYPE_READ_INDEX_RESP,
};

const typeFromWire = new Map<RaftMessage_Type, MessageType>(Object.entries(typeToWire).map(([k, v]) => [v, k as MessageType]));

const changeToWire: Record<ConfChange['type'], ConfChange_Type> = {
  addVoter: ConfChange_Type.TYPE_ADD_VOTER,
  addLearner: ConfChange_Type.TYPE_ADD_LEARNER,
  removeNode: ConfChange_Type.TYPE_REMOVE_NODE,
};

function emptyWire(m: Message): RaftMessage {
  // The generated defaults for every other field.
  return RaftMessage.fromPartial({ type: typeToWire[m.type], from: m.from, to: m.to, term: m.term });
}

export function entryToWire(e: Entry): WireEntry {
  if (e.kind === 'normal')
    return { term: e.term, index: e.index, data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), confChange: undefined };
  return { term: e.term, index: e.index, data: Buffer.alloc(0), confChange: { type: changeToWire[e.change.type], node: e.change.node } };
}

function confStateToWire(cs: ConfState): WireConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}

/** The snapshot's data is not included: it is streamed separately (see SnapshotSender). */
export function messageToWire(m: Message): RaftMessage {
  const w = emptyWire(m);
  switch (m.type) {
    case 'preVote':
    case 'vote':
      return { ...w, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm, transfer: m.transfer };
    case 'preVoteResp':
    case 'voteResp':
      return { ...w, reject: m.reject };
    case 'app':
      return { ...w, prevIndex: m.prevIndex, prevTerm: m.prevTerm, entries: m.entries.map(entryToWire), commit: m.commit };
    case 'appResp':
      return { ...w, index: m.index, reject: m.reject, rejectHint: m.rejectHint, logTerm: m.logTerm };
    case 'heartbeat':
      return { ...w, commit: m.commit, context: m.context ?? '', hasContext: m.context !== null };
    case 'heartbeatResp':
      return { ...w, context: m.context ?? '', hasContext: m.context !== null };
    case 'snap': {
      const md = m.snapshot.metadata;
      return { ...w, snapshot: { index: md.index, term: md.term, confState: confStateToWire(md.confState) } };
    }
    case 'timeoutNow':
      return w;
    case 'readIndex':
      return { ...w, context: m.context, hasContext: true };
    case 'readIndexResp':
      return { ...w, context: m.context, hasContext: true, readIndex: m.index };
  }
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new WireError(what);
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function changeFromWire(c: WireConfChange): ConfChange {
  check(c.node.length > 0, 'membership change without a node');
  switch (c.type) {
    case ConfChange_Type.TYPE_ADD_VOTER:
      return { type: 'addVoter', node: c.node };
    case ConfChange_Type.TYPE_ADD_LEARNER:
      return { type: 'addLearner', node: c.node };
    case ConfChange_Type.TYPE_REMOVE_NODE:
      return { type: 'removeNode', node: c.node };
    default:
      throw new WireError(`unknown membership change type ${c.type}`);
  }
}

export function entryFromWire(e: WireEntry): Entry {
  check(isIndex(e.term) && isIndex(e.index) && e.index > 0, `entry with bad index/term ${e.index}/${e.term}`);
  if (e.confChange) {
    check(e.data.length === 0, 'entry with both data and a membership change');
    return { kind: 'confChange', term: e.term, index: e.index, change: changeFromWire(e.confChange) };
  }
  return { kind: 'normal', term: e.term, index: e.index, data: new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength) };
}

/** Decodes and validates a peer's message; `snapshotData` completes a 'snap' message. */
export function messageFromWire(w: RaftMessage, snapshotData: Uint8Array | null = null): Message {
  const type = typeFromWire.get(w.type);
  check(type !== undefined, `unknown message type ${w.type}`);
  check(w.from.length > 0 && w.to.length > 0, 'message without from/to');
  check(isIndex(w.term), `bad term ${w.term}`);
  const base = { from: w.from, to: w.to, term: w.term };
  const context = w.hasContext ? w.context : null;
  switch (type!) {
    case 'preVote':
    case 'vote':
      return { ...base, type: type as 'preVote' | 'vote', lastLogIndex: w.lastLogIndex, lastLogTerm: w.lastLogTerm, transfer: w.transfer };
    case 'preVoteResp':
    case 'voteResp':
      return { ...base, type: type as 'preVoteResp' | 'voteResp', reject: w.reject };
    case 'app':
      return { ...base, type: 'app', prevIndex: w.prevIndex, prevTerm: w.prevTerm, entries: w.entries.map(entryFromWire), commit: w.commit };
    case 'appResp':
      return { ...base, type: 'appResp', index: w.index, reject: w.reject, rejectHint: w.rejectHint, logTerm: w.logTerm };
    case 'heartbeat':
      return { ...base, type: 'heartbeat', commit: w.commit, context };
    case 'heartbeatResp':
      return { ...base, type: 'heartbeatResp', context };
    case 'snap':
      return { ...base, type: 'snap', snapshot: snapshotFromWire(w, snapshotData) };
    case 'timeoutNow':
      return { ...base, type: 'timeoutNow' };
    case 'readIndex':
      check(context !== null, 'readIndex without context');
      return { ...base, type: 'readIndex', context: context! };
    case 'readIndexResp':
      check(context !== null && Number.isSafeInteger(w.readIndex) && w.readIndex >= -1, 'bad readIndex response');
      return { ...base, type: 'readIndexResp', context: context!, index: w.readIndex };
  }
}

function snapshotFromWire(w: RaftMessage, data: Uint8Array | null): Snapshot {
  const md = w.snapshot;
  check(md !== undefined && md.confState !== undefined, 'snapshot message without metadata');
  check(data !== null, 'snapshot message without its data');
  check(isIndex(md!.index) && md!.index > 0 && isIndex(md!.term), 'snapshot with bad index/term');
  return { metadata: { index: md!.index, term: md!.term, confState: { voters: md!.confState!.voters, learners: md!.confState!.learners } }, data: data! };
}
