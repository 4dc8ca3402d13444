import type { ConfChange, ConfState, Entry, HardState, Message, Ready, Snapshot } from '../../types.js';

/*
 * Compact, deterministic renderings of the core's data for scenario output. Every format here
 * is part of the expected output of every scenario: change one only with a full rewrite.
 */

const decoder = new TextDecoder();

export function fmtConfChange(c: ConfChange): string {
  const verb = c.type === 'addVoter' ? 'add-voter' : c.type === 'addLearner' ? 'add-learner' : 'remove';
  return `${verb} ${c.node}`;
}

/** `term/index "payload"` (as etcd prints entries), or `term/index conf(add-voter 4)`. */
export function fmtEntry(e: Entry): string {
  const body = e.kind === 'normal' ? JSON.stringify(decoder.decode(e.data)) : `conf(${fmtConfChange(e.change)})`;
  return `${e.term}/${e.index} ${body}`;
}

/** Long runs of entries are elided in the middle: the ends show where a batch starts and stops. */
const ELIDE_OVER = 6;

function elide(items: readonly string[]): string[] {
  if (items.length <= ELIDE_OVER) return [...items];
  return [...items.slice(0, 2), `... ${items.length - 4} more ...`, ...items.slice(-2)];
}

export function fmtEntries(es: readonly Entry[]): string {
  return `[${elide(es.map(fmtEntry)).join(', ')}]`;
}

export function fmtIds(ids: readonly string[]): string {
  return `(${ids.join(',')})`;
}

export function fmtConf(cs: ConfState): string {
  return `voters=${fmtIds(cs.voters)} learners=${fmtIds(cs.learners)}`;
}

export function fmtHard(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote ?? '-'} commit=${hs.commit}`;
}

export function fmtSnap(s: Snapshot): string {
  const m = s.metadata;
  return `(index=${m.index} term=${m.term} ${fmtConf(m.confState)})`;
}

export function fmtMsg(m: Message): string {
  const head = `${m.from}->${m.to} ${kebab(m.type)} term=${m.term}`;
  switch (m.type) {
    case 'preVote':
    case 'vote':
      return `${head} last=(${m.lastLogIndex},${m.lastLogTerm})${m.transfer ? ' transfer' : ''}`;
    case 'preVoteResp':
    case 'voteResp':
      return m.reject ? `${head} rejected` : head;
    case 'app': {
      const ents = m.entries.length > 0 ? ` entries=${fmtEntries(m.entries)}` : '';
      return `${head} prev=(${m.prevIndex},${m.prevTerm}) commit=${m.commit}${ents}`;
    }
    case 'appResp':
      return m.reject ? `${head} index=${m.index} rejected hint=(${m.rejectHint},${m.logTerm})` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${ctx(m.context)}`;
    case 'heartbeatResp':
      return `${head}${ctx(m.context)}`;
    case 'snap':
      return `${head} snapshot=${fmtSnap(m.snapshot)}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head}${ctx(m.context)}`;
    case 'readIndexResp':
      return `${head}${ctx(m.context)} index=${m.index}`;
  }
}

function ctx(c: string | null): string {
  return c === null ? '' : ` ctx=${c}`;
}

/** The name a message type is printed (and filtered, in deliver-msgs type=...) by. */
export function kebab(type: string): string {
  const words: Record<string, string> = { preVote: 'prevote', preVoteResp: 'prevote-resp', voteResp: 'vote-resp', appResp: 'app-resp', heartbeatResp: 'heartbeat-resp', timeoutNow: 'timeout-now', readIndex: 'read-index', readIndexResp: 'read-index-resp' };
  return words[type] ?? type;
}

/** The Ready as indented lines; `sent` renders each message (the env marks dropped ones). */
export function fmtReady(rd: Ready, sent: (m: Message) => string): string[] {
  const out: string[] = [];
  if (rd.softState) out.push(`state: ${rd.softState.role} lead=${rd.softState.lead ?? '-'}`);
  if (rd.hardState) out.push(`hardstate: ${fmtHard(rd.hardState)}`);
  if (rd.snapshot) out.push(`snapshot: ${fmtSnap(rd.snapshot)}`);
  pushList(out, 'entries', elide(rd.entries.map(fmtEntry)));
  pushList(out, 'committed', elide(rd.committedEntries.map(fmtEntry)));
  pushList(out, 'messages', rd.messages.map(sent));
  for (const r of rd.readStates) out.push(`read-state: ctx=${r.context} index=${r.index}`);
  return out;
}

/** One item stays on the header line; more go one per line, indented. */
function pushList(out: string[], title: string, items: readonly string[]): void {
  if (items.length === 0) return;
  if (items.length === 1) out.push(`${title}: ${items[0]}`);
  else out.push(`${title}:`, ...items.map((i) => `  ${i}`));
}
