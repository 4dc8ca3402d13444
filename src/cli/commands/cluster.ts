import type { LarderClient } from '../../client/larder-client.js';
import type { ClusterInfoResponse } from '../../shared/proto/larder/v1/store.js';
import { table } from '../output.js';

/** Asks every node it can find (the given ones and the peers they report) and prints one row each. */
export async function cluster(client: LarderClient, endpoints: string[]): Promise<void> {
  const seen = new Map<string, ClusterInfoResponse | Error>();
  const queue = [...endpoints];
  while (queue.length > 0) {
    const ep = queue.shift()!;
    if (seen.has(ep)) continue;
    try {
      const info = await client.clusterInfo(ep);
      seen.set(ep, info);
      for (const p of info.peers) if (p.address && !seen.has(p.address)) queue.push(p.address);
    } catch (e) {
      seen.set(ep, e as Error);
    }
  }
  const rows = [...seen.entries()].map(([ep, r]) => {
    if (r instanceof Error) return ['?', ep, 'unreachable', '', '', '', '', r.message.slice(0, 40)];
    const leader = r.role === 'leader';
    return [r.nodeId + (leader ? ' *' : ''), ep, r.role, r.term, r.commitIndex, r.appliedIndex, `${r.firstIndex}..${r.lastIndex}`, r.leaderId || '(none)'];
  });
  console.log(table(['node', 'address', 'role', 'term', 'commit', 'applied', 'log', 'leader'], rows));
}
