import { describe, expect, it } from 'vitest';
import { MemoryStorage, RaftNode, seededRandom, type Message } from '../index.js';

function cluster(ids: string[], seed = 1) {
  const rand = seededRandom(seed);
  const storages = new Map<string, MemoryStorage>();
  const nodes = new Map<string, RaftNode>();
  const applied = new Map<string, string[]>();
  for (const id of ids) {
    const s = new MemoryStorage();
    s.bootstrap({ voters: ids, learners: [] });
    storages.set(id, s);
    nodes.set(id, new RaftNode({ id, storage: s, electionTick: 10, heartbeatTick: 1, randomInt: rand.int }));
    applied.set(id, []);
  }
  const inbox: Message[] = [];
  const pump = () => {
    for (let round = 0; round < 1000; round++) {
      let progressed = false;
      for (const [id, n] of nodes) {
        while (n.hasReady()) {
          progressed = true;
          const rd = n.ready();
          const s = storages.get(id)!;
          if (rd.snapshot) s.applySnapshot(rd.snapshot);
          s.append(rd.entries);
          if (rd.hardState) s.setHardState(rd.hardState);
          inbox.push(...rd.messages);
          for (const e of rd.committedEntries) if (e.kind === 'normal' && e.data.length) applied.get(id)!.push(new TextDecoder().decode(e.data));
          n.advance(rd);
        }
      }
      while (inbox.length) {
        progressed = true;
        const m = inbox.shift()!;
        nodes.get(m.to)?.step(m);
      }
      if (!progressed) return;
    }
    throw new Error('did not settle');
  };
  return { nodes, applied, pump };
}

describe('raft smoke', () => {
  it('elects a leader and replicates a proposal to every node', () => {
    const c = cluster(['a', 'b', 'c']);
    c.pump(); // Apply the bootstrap membership entries.
    c.nodes.get('a')!.campaign();
    c.pump();
    expect(c.nodes.get('a')!.status().role).toBe('leader');
    c.nodes.get('a')!.propose(new TextEncoder().encode('hello'));
    c.pump();
    for (const id of ['a', 'b', 'c']) expect(c.applied.get(id)).toEqual(['hello']);
  });

  it('elects someone by ticking alone', () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e'], 7);
    for (let t = 0; t < 50; t++) {
      for (const n of c.nodes.values()) n.tick();
      c.pump();
    }
    const leaders = [...c.nodes.values()].filter((n) => n.status().role === 'leader');
    expect(leaders).toHaveLength(1);
  });
});
