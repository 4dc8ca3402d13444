import type { Entry, Message, Ready } from '../raft/index.js';

/** Compact one-line renderings for simulation traces. */
export function formatEntry(e: Entry): string {
  if (e.kind === 'confChange') return `${e.index}/${e.term}:${e.change.type}(${e.change.node})`;
  return `${e.index}/${e.term}${e.data.length === 0 ? ':noop' : ''}`;
}

function formatEntries(es: readonly Entry[]): string {
  if (es.length <= 3) return es.map(formatEntry).join(',');
  return `${formatEntry(es[0]!)}..${formatEntry(es[es.length - 1]!)}(${es.length})`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'preVote':
    case 'vote':
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'preVoteResp':
    case 'voteResp':
      return `${head}${m.reject ? ' REJECT' : ' grant'}`;
    case 'app':
      return `${head} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} [${formatEntries(m.entries)}]`;
    case 'appResp':
      return `${head} index=${m.index}${m.reject ? ` REJECT hint=${m.rejectHint}/${m.logTerm}` : ''}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'heartbeatResp':
      return `${head}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'snap':
      return `${head} snap=${m.snapshot.metadata.index}/${m.snapshot.metadata.term} voters=${m.snapshot.metadata.confState.voters.join(',')} learners=${m.snapshot.metadata.confState.learners.join(',')}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${m.context}`;
    case 'readIndexResp':
      return `${head} ctx=${m.context} index=${m.index}`;
  }
}

export function formatReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState) parts.push(`soft=${rd.softState.role}/${rd.softState.lead ?? '-'}`);
  if (rd.hardState) parts.push(`hard=t${rd.hardState.term}/v${rd.hardState.vote ?? '-'}/c${rd.hardState.commit}`);
  if (rd.snapshot) parts.push(`snap=${rd.snapshot.metadata.index}/${rd.snapshot.metadata.term}`);
  if (rd.entries.length) parts.push(`persist=[${formatEntries(rd.entries)}]`);
  if (rd.committedEntries.length) parts.push(`apply=[${formatEntries(rd.committedEntries)}]`);
  return parts.join(' ');
}
