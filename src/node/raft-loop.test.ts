import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, type Message, type Snapshot } from '../raft/index.js';
import { MemoryLoopStorage } from './memory-loop-storage.js';
import { RaftLoop, type StateMachine } from './raft-loop.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

class ListMachine implements StateMachine<string> {
  items: string[] = [];
  async apply(index: number, data: Uint8Array): Promise<string> {
    if (data.length === 0) return 'noop';
    this.items.push(dec.decode(data));
    return `applied ${dec.decode(data)} at ${index}`;
  }
  async snapshot(): Promise<Uint8Array> {
    return enc.encode(JSON.stringify(this.items));
  }
  async restore(s: Snapshot): Promise<void> {
    this.items = JSON.parse(dec.decode(s.data)) as string[];
  }
}

const timers: ReturnType<typeof setInterval>[] = [];
afterEach(() => timers.splice(0).forEach(clearInterval));

function cluster(ids: string[], opts: { snapshotEntries?: number; drop?: (m: Message) => boolean } = {}) {
  const loops = new Map<string, RaftLoop<string>>();
  const machines = new Map<string, ListMachine>();
  const rand = seededRandom(3);
  for (const id of ids) {
    const storage = new MemoryLoopStorage();
    storage.bootstrap({ voters: ids, learners: [] });
    const sm = new ListMachine();
    machines.set(id, sm);
    const loop = new RaftLoop<string>({
      raft: { id, electionTick: 10, heartbeatTick: 1, randomInt: rand.int },
      storage,
      stateMachine: sm,
      transport: { send: (ms) => ms.forEach((m) => opts.drop?.(m) || setImmediate(() => loops.get(m.to)?.step(m))) },
      snapshotEntries: opts.snapshotEntries ?? 1000,
      keepEntries: 2,
      onError: (e) => {
        throw e;
      },
    });
    loops.set(id, loop);
    timers.push(setInterval(() => loop.tick(), 5));
  }
  return { loops, machines };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function leaderOf(loops: Map<string, RaftLoop<string>>): RaftLoop<string> | undefined {
  return [...loops.values()].find((l) => l.status().role === 'leader');
}

describe('RaftLoop', () => {
  it('elects, replicates, and resolves a proposal with its apply result', async () => {
    const { loops, machines } = cluster(['a', 'b', 'c']);
    await until(() => leaderOf(loops) !== undefined);
    const leader = leaderOf(loops)!;
    await expect(leader.propose(enc.encode('x'))).resolves.toMatch(/^applied x at \d+$/);
    await until(() => [...machines.values()].every((m) => m.items.join() === 'x'));
  });

  it('serves a linearizable read barrier on a follower after the leader commits', async () => {
    const { loops, machines } = cluster(['a', 'b', 'c']);
    await until(() => leaderOf(loops) !== undefined);
    const leader = leaderOf(loops)!;
    const follower = [...loops.entries()].find(([, l]) => l !== leader)!;
    await leader.propose(enc.encode('y'));
    await follower[1].readBarrier();
    expect(machines.get(follower[0])!.items).toContain('y');
  });

  it('snapshots, compacts and still brings every node up to date', async () => {
    const { loops, machines } = cluster(['a', 'b', 'c'], { snapshotEntries: 5 });
    await until(() => leaderOf(loops) !== undefined);
    const leader = leaderOf(loops)!;
    for (let i = 0; i < 30; i++) await leader.propose(enc.encode(`v${i}`));
    await until(() => [...machines.values()].every((m) => m.items.length === 30));
    expect(leader.status().firstIndex).toBeGreaterThan(1);
  });

  it('rejects a proposal on a follower with a leader hint', async () => {
    const { loops } = cluster(['a', 'b', 'c']);
    await until(() => leaderOf(loops) !== undefined);
    const leader = leaderOf(loops)!;
    const follower = [...loops.values()].find((l) => l !== leader)!;
    await until(() => follower.status().lead !== null);
    expect(() => follower.propose(enc.encode('z'))).toThrow(/not the leader/);
  });
});
