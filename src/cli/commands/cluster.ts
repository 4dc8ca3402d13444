import type { LarderClient } from '../../client/larder-client.js';
import type { ClusterInfoResponse, QueueStats } from '../../shared/proto/larder/v1/store.js';
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
  const load = [...seen.values()].filter((r): r is ClusterInfoResponse => !(r instanceof Error) && r.admission !== undefined).map(loadRow);
  if (load.length > 0)
    console.log(
      `\nload and admission (queued/capacity, shed = refused by load shedding since start)\n${table(['node', 'cpu', 'mem', 'event loop', 'workers', 'downloads', 'uploads', 'shed down', 'shed up', 'policies'], load)}`,
    );
}

const pct = (x: number): string => (x < 0 ? '-' : `${x.toFixed(0)}%`);
const shedSum = (q: QueueStats | undefined): number => (q?.shed ? Object.values(q.shed).reduce((a: number, b: number) => a + b, 0) : 0);
const queue = (q: QueueStats | undefined): string => (q ? `${q.queued}/${q.capacity} (${q.completed} done)` : '-');

function loadRow(r: ClusterInfoResponse): (string | number)[] {
  const a = r.admission!;
  return [
    r.nodeId,
    pct(a.load?.cpuPercent ?? -1),
    pct(a.load?.memUsedPercent ?? -1),
    pct(a.load?.eventLoopPercent ?? -1),
    `${a.busyWorkers}/${a.workers}`,
    queue(a.downloads),
    queue(a.uploads),
    shedSum(a.downloads),
    shedSum(a.uploads),
    a.policies.join(',') || 'off',
  ];
}
