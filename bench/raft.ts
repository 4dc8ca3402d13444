/**
 * bench:raft — how fast the pure Raft core commits, with the network and disk taken out.
 *
 * Three cores in one process, in-memory transport and MemoryStorage. Time is counted in rounds:
 * each round every node ticks once and every message sent in the previous round is delivered,
 * so one round is one network hop and one tick. The leader proposes a batch of 1 KiB entries
 * each round; an entry's commit latency is the number of rounds from its proposal until the
 * leader applies it (the floor is 2: append out, acknowledgement back).
 *
 * Target (issue 2): at least 100,000 committed entries/s, so the core is never the bottleneck
 * next to a real gRPC call (~0.37 ms of client CPU per unary call here, ../shared/anchors).
 */
import { parseArgs } from 'node:util';
import { MemoryStorage, RaftNode, seededRandom, type Message, type Ready } from '../src/raft/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, batch: { type: 'string' }, 'entry-bytes': { type: 'string' } } });
const seconds = Number(values.seconds ?? 5);
const entryBytes = Number(values['entry-bytes'] ?? 1024);
const batches = values.batch ? [Number(values.batch)] : [64, 512, 2048];
const targetPerSecond = 100_000;
const grpcUnaryRpsAnchor = 2012; // ../shared/anchors/README.md: grpc-js unary, 1 in flight, this machine.

interface Cluster {
  nodes: Map<string, RaftNode>;
  storages: Map<string, MemoryStorage>;
  inbox: Message[];
}

function makeCluster(): Cluster {
  const ids = ['a', 'b', 'c'];
  const rand = seededRandom(42);
  const nodes = new Map<string, RaftNode>();
  const storages = new Map<string, MemoryStorage>();
  for (const id of ids) {
    const storage = new MemoryStorage();
    storage.bootstrap({ voters: ids, learners: [] });
    storages.set(id, storage);
    nodes.set(id, new RaftNode({ id, storage, electionTick: 10, heartbeatTick: 1, randomInt: rand.int, maxSizePerMsg: 4 * 1024 * 1024, maxInflightMsgs: 64 }));
  }
  return { nodes, storages, inbox: [] };
}

/** One round: deliver last round's messages, tick, then handle every Ready. */
function round(c: Cluster, onApply: (id: string, index: number) => void): void {
  const inbox = c.inbox;
  c.inbox = [];
  for (const m of inbox) c.nodes.get(m.to)!.step(m);
  for (const n of c.nodes.values()) n.tick();
  for (const [id, n] of c.nodes) {
    while (n.hasReady()) handleReady(c, id, n, n.ready(), onApply);
  }
}

function handleReady(c: Cluster, id: string, n: RaftNode, rd: Ready, onApply: (id: string, index: number) => void): void {
  const s = c.storages.get(id)!;
  if (rd.snapshot) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hardState) s.setHardState(rd.hardState);
  for (const m of rd.messages) c.inbox.push(m);
  const last = rd.committedEntries[rd.committedEntries.length - 1];
  n.advance(rd);
  if (!last) return;
  onApply(id, last.index);
  // Keep memory flat: snapshot and compact every 64k entries, keeping a tail for slow followers.
  const st = n.status();
  if (st.applied - s.firstIndex() > 65_536) {
    s.createSnapshot(st.applied, st.confState, new Uint8Array(0));
    s.compact(st.applied - 4096);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function run(batch: number): { perSecond: number; p50: number; p99: number; rounds: number } {
  const c = makeCluster();
  const leader = c.nodes.get('a')!;
  for (let i = 0; i < 3; i++) round(c, () => {});
  leader.campaign();
  for (let i = 0; i < 10 && leader.status().role !== 'leader'; i++) round(c, () => {});
  if (leader.status().role !== 'leader') throw new Error('bench: no leader elected');
  for (let i = 0; i < 5; i++) round(c, () => {});

  const payload = new Uint8Array(entryBytes).fill(7);
  const proposedAt = new Map<number, number>();
  const latencies: number[] = [];
  let applied = leader.status().applied;
  let committed = 0;
  let r = 0;
  const onApply = (id: string, index: number): void => {
    if (id !== 'a') return;
    for (let i = applied + 1; i <= index; i++) {
      const at = proposedAt.get(i);
      if (at === undefined) continue;
      latencies.push(r - at);
      proposedAt.delete(i);
      committed++;
    }
    applied = index;
  };
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < batch; i++) proposedAt.set(leader.propose(payload).index, r);
    round(c, onApply);
    r++;
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((x, y) => x - y);
  return { perSecond: committed / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), rounds: r };
}

console.log(`bench:raft — 3 in-process cores, in-memory transport and storage, ${entryBytes} B entries, ${seconds} s per batch size`);
console.log('batch/round  committed entries/s   MB/s   commit latency p50/p99 (ticks)   vs target 100k/s   vs gRPC unary anchor (2012/s)');
let best = 0;
for (const b of batches) {
  const res = run(b);
  best = Math.max(best, res.perSecond);
  const mb = (res.perSecond * entryBytes) / 1e6;
  console.log(
    `${String(b).padStart(11)}  ${Math.round(res.perSecond).toLocaleString('en-US').padStart(19)}  ${mb.toFixed(1).padStart(6)}   ${`${res.p50} / ${res.p99}`.padStart(30)}   ${`${(res.perSecond / targetPerSecond).toFixed(2)}x`.padStart(16)}   ${`${(res.perSecond / grpcUnaryRpsAnchor).toFixed(0)}x`.padStart(27)}`,
  );
}
console.log(best >= targetPerSecond ? `PASS: best ${Math.round(best)} entries/s >= ${targetPerSecond}` : `BELOW TARGET: best ${Math.round(best)} entries/s < ${targetPerSecond}`);
