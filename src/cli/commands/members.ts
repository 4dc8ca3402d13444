import type { LarderClient } from '../../client/larder-client.js';
import { die, table } from '../output.js';

/** `larder members`: every member with its role and replication progress, as the leader sees it. */
export async function members(client: LarderClient): Promise<void> {
  const info = await client.clusterInfo();
  const leader = info.leaderAddress && info.role !== 'leader' ? await client.clusterInfo(info.leaderAddress).catch(() => info) : info;
  const rows = leader.peers.map((p) => [
    p.id + (p.id === leader.leaderId ? ' *' : ''),
    p.address || '?',
    p.membership,
    p.matchIndex,
    p.progress || '-',
    p.lastContactMsAgo < 0 ? 'never' : `${p.lastContactMsAgo} ms`,
  ]);
  console.log(table(['node', 'address', 'membership', 'match', 'progress', 'last heard'], rows));
}

/** `larder remove <id>`: takes a member (usually a dead one) out of the cluster. */
export async function removeMember(client: LarderClient, id: string, token: string | undefined): Promise<void> {
  if (!token) die('removing a member needs the host token: pass --token or set LARDER_HOST_TOKEN');
  const removed = await client.removeMember(id, token);
  console.log(removed ? `removed ${id} from the cluster` : `${id} was not a member`);
}

/**
 * `larder leave`: the node at the first --nodes address leaves its cluster cleanly (another voter
 * takes over if it led), then stops. Its data stays on disk; a restart refuses until it re-joins.
 */
export async function leave(client: LarderClient, endpoint: string, token: string | undefined, waitMs = 20_000): Promise<void> {
  if (!token) die('leaving needs the host token: pass --token or set LARDER_HOST_TOKEN');
  const me = await client.clusterInfo(endpoint);
  await client.removeMember(me.nodeId, token);
  const giveUpAt = Date.now() + waitMs;
  while (Date.now() < giveUpAt) {
    const still = await client.clusterInfo(endpoint).catch(() => null);
    if (still === null) {
      console.log(`${me.nodeId} left cluster "${me.clusterId}" and stopped`);
      return;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  die(`${me.nodeId} was removed from the cluster but is still running after ${waitMs} ms; stop it by hand`);
}
