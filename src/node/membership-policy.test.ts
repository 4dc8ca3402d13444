import { describe, expect, it } from 'vitest';
import type { NodeId, PeerStatus } from '../raft/index.js';
import type { MemberRole } from '../store/index.js';
import { nextMembershipStep, type MembershipStep, type MembershipView } from './membership-policy.js';

type BookEntry = { readonly address: string; readonly role: MemberRole };

interface ViewOptions {
  readonly self?: NodeId;
  readonly voters?: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly lastIndex?: number;
  /** Per-member progress changes over the default (caught up, replicating); null leaves the member without a record. */
  readonly progress?: Readonly<Record<NodeId, Partial<PeerStatus> | null>>;
  /** Milliseconds since heard from; 0 for anyone not listed. */
  readonly silent?: Readonly<Record<NodeId, number>>;
  /** Book entries over the default (every member at its known address with its Raft role); null drops the entry. */
  readonly book?: Readonly<Record<NodeId, BookEntry | null>>;
  /** Known addresses over the default (`<id>.lan:7400` for every member); null means unknown. */
  readonly known?: Readonly<Record<NodeId, string | null>>;
  readonly maxVoters?: number;
  readonly voterGraceMs?: number;
  readonly catchUpEntries?: number;
  readonly liveWithinMs?: number;
}

const addr = (id: NodeId): string => `${id}.lan:7400`;

/** A view where everything is in order: every member in the book, caught up and heard from just now. */
function view(o: ViewOptions = {}): MembershipView {
  const voters = o.voters ?? ['n1', 'n2', 'n3'];
  const learners = o.learners ?? [];
  const lastIndex = o.lastIndex ?? 100;
  const members = [...voters, ...learners];

  const progress: Record<NodeId, PeerStatus> = {};
  for (const id of members) {
    const change = o.progress?.[id];
    if (change === null) continue;
    progress[id] = { match: lastIndex, next: lastIndex + 1, state: 'replicate', recentActive: true, inflight: 0, isLearner: learners.includes(id), ...change };
  }

  const known = new Map<NodeId, string | null>(members.map((id) => [id, addr(id)]));
  for (const [id, address] of Object.entries(o.known ?? {})) known.set(id, address);

  const book = new Map<NodeId, BookEntry>();
  for (const id of voters) book.set(id, { address: addr(id), role: 'voter' });
  for (const id of learners) book.set(id, { address: addr(id), role: 'learner' });
  for (const [id, entry] of Object.entries(o.book ?? {})) {
    if (entry === null) book.delete(id);
    else book.set(id, entry);
  }

  const silent = o.silent ?? {};
  return {
    self: o.self ?? 'n1',
    confState: { voters, learners },
    progress,
    lastIndex,
    silentMs: (id) => silent[id] ?? 0,
    book,
    knownAddress: (id) => known.get(id) ?? null,
    maxVoters: o.maxVoters ?? 5,
    voterGraceMs: o.voterGraceMs ?? 30_000,
    catchUpEntries: o.catchUpEntries ?? 64,
    liveWithinMs: o.liveWithinMs ?? 2_000,
  };
}

const FIVE_VOTERS = ['n1', 'n2', 'n3', 'n4', 'n5'];

describe('nextMembershipStep: nothing to do', () => {
  it('returns null when every member is in the book with its role and address and no learner waits', () => {
    expect(nextMembershipStep(view())).toBeNull();
  });

  it('returns null at the voter cap with a caught-up learner and every voter heard from lately', () => {
    expect(nextMembershipStep(view({ voters: FIVE_VOTERS, learners: ['n6'], silent: { n2: 30_000, n6: 0 } }))).toBeNull();
  });

  it('returns null below the voter cap when no learner is caught up', () => {
    expect(nextMembershipStep(view({ learners: ['n4'], progress: { n4: { match: 10 } } }))).toBeNull();
  });
});

describe('nextMembershipStep: record (rule 1)', () => {
  it('records a voter missing from the book at its known address', () => {
    expect(nextMembershipStep(view({ book: { n2: null } }))).toEqual({ type: 'record', id: 'n2', address: 'n2.lan:7400', role: 'voter' });
  });

  it('records a learner missing from the book as a learner', () => {
    expect(nextMembershipStep(view({ learners: ['n4'], book: { n4: null } }))).toEqual({ type: 'record', id: 'n4', address: 'n4.lan:7400', role: 'learner' });
  });

  it('records the Raft role where the book says otherwise, keeping the book address', () => {
    expect(nextMembershipStep(view({ book: { n3: { address: 'n3.old:1', role: 'learner' } }, known: { n3: 'n3.new:2' } }))).toEqual({
      type: 'record',
      id: 'n3',
      address: 'n3.old:1',
      role: 'voter',
    });
    expect(nextMembershipStep(view({ learners: ['n4'], book: { n4: { address: addr('n4'), role: 'voter' } } }))).toEqual({
      type: 'record',
      id: 'n4',
      address: 'n4.lan:7400',
      role: 'learner',
    });
  });

  it("records the leader's own new address when it differs from the book", () => {
    expect(nextMembershipStep(view({ book: { n1: { address: 'n1.old:7400', role: 'voter' } }, known: { n1: 'n1.new:7500' } }))).toEqual({
      type: 'record',
      id: 'n1',
      address: 'n1.new:7500',
      role: 'voter',
    });
  });

  it("keeps another member's book address even when the known address differs", () => {
    expect(nextMembershipStep(view({ book: { n2: { address: 'n2.old:7400', role: 'voter' } }, known: { n2: 'n2.new:7500' } }))).toBeNull();
  });

  it('skips a member with no known address anywhere and records the next one', () => {
    expect(nextMembershipStep(view({ book: { n2: null }, known: { n2: null } }))).toBeNull();
    expect(nextMembershipStep(view({ book: { n2: null, n3: null }, known: { n2: null } }))).toEqual({
      type: 'record',
      id: 'n3',
      address: 'n3.lan:7400',
      role: 'voter',
    });
  });

  it('never re-records a book entry marked removed, whatever the role or address', () => {
    // The member still in the membership is removed from it rather than recorded back.
    expect(nextMembershipStep(view({ book: { n2: { address: 'n2.old:1', role: 'removed' } }, known: { n2: 'n2.new:2' } }))).toEqual({
      type: 'removeNode',
      id: 'n2',
      why: 'marked removed',
    });
    expect(nextMembershipStep(view({ book: { n1: { address: 'n1.old:1', role: 'removed' } }, known: { n1: 'n1.new:2' } }))).toEqual({
      type: 'removeNode',
      id: 'n1',
      why: 'marked removed',
    });
  });

  it('records in code-unit id order ("B" before "a")', () => {
    const missing = { a: null, B: null };
    expect(nextMembershipStep(view({ voters: ['n1', 'a', 'B'], book: missing }))).toEqual({ type: 'record', id: 'B', address: 'B.lan:7400', role: 'voter' });
    // Voters do not come before learners: one order over all members.
    expect(nextMembershipStep(view({ voters: ['n1', 'a'], learners: ['B'], book: missing }))).toEqual({
      type: 'record',
      id: 'B',
      address: 'B.lan:7400',
      role: 'learner',
    });
    expect(nextMembershipStep(view({ voters: ['n1', 'a', 'B'], book: { a: null } }))).toEqual({
      type: 'record',
      id: 'a',
      address: 'a.lan:7400',
      role: 'voter',
    });
  });
});

describe('nextMembershipStep: removeNode (rule 2)', () => {
  const removed = (id: NodeId): BookEntry => ({ address: addr(id), role: 'removed' });

  it('removes a voter or a learner whose book role is removed', () => {
    expect(nextMembershipStep(view({ book: { n2: removed('n2') } }))).toEqual({ type: 'removeNode', id: 'n2', why: 'marked removed' });
    expect(nextMembershipStep(view({ learners: ['n4'], book: { n4: removed('n4') } }))).toEqual({ type: 'removeNode', id: 'n4', why: 'marked removed' });
  });

  it('removes the leader itself when it alone is marked removed', () => {
    expect(nextMembershipStep(view({ book: { n1: removed('n1') } }))).toEqual({ type: 'removeNode', id: 'n1', why: 'marked removed' });
  });

  it('removes another marked member before the leader itself', () => {
    expect(nextMembershipStep(view({ book: { n1: removed('n1'), n3: removed('n3') } }))).toEqual({ type: 'removeNode', id: 'n3', why: 'marked removed' });
    // Also when the leader's id sorts first.
    expect(nextMembershipStep(view({ self: 'a', voters: ['a', 'b', 'c'], book: { a: removed('a'), c: removed('c') } }))).toEqual({
      type: 'removeNode',
      id: 'c',
      why: 'marked removed',
    });
  });

  it('removes several marked members lowest id first', () => {
    expect(nextMembershipStep(view({ voters: FIVE_VOTERS, book: { n5: removed('n5'), n3: removed('n3') } }))).toEqual({
      type: 'removeNode',
      id: 'n3',
      why: 'marked removed',
    });
  });

  it('records before it removes', () => {
    expect(nextMembershipStep(view({ book: { n2: removed('n2'), n3: null } }))).toEqual({ type: 'record', id: 'n3', address: 'n3.lan:7400', role: 'voter' });
  });
});

describe('nextMembershipStep: promote (rule 3)', () => {
  it('promotes a caught-up, replicating, live learner while voters are below the cap', () => {
    expect(nextMembershipStep(view({ learners: ['n4'] }))).toEqual({ type: 'promote', id: 'n4' });
  });

  it('promotes the lowest id first among several caught-up learners', () => {
    expect(nextMembershipStep(view({ learners: ['n9', 'n4', 'n5'] }))).toEqual({ type: 'promote', id: 'n4' });
    expect(nextMembershipStep(view({ learners: ['b', 'A'] }))).toEqual({ type: 'promote', id: 'A' });
  });

  it('passes over a learner that is not caught up for one that is', () => {
    expect(nextMembershipStep(view({ learners: ['n4', 'n5'], progress: { n4: { state: 'probe' } } }))).toEqual({ type: 'promote', id: 'n5' });
  });

  it('does not promote at the voter cap', () => {
    expect(nextMembershipStep(view({ voters: FIVE_VOTERS, learners: ['n6'] }))).toBeNull();
    expect(nextMembershipStep(view({ voters: ['n1', 'n2', 'n3'], learners: ['n4'], maxVoters: 3 }))).toBeNull();
  });

  it.each(['probe', 'snapshot'] as const)('does not promote a learner whose progress state is %s', (state) => {
    expect(nextMembershipStep(view({ learners: ['n4'], progress: { n4: { state } } }))).toBeNull();
  });

  it('does not promote a learner the leader has no progress for', () => {
    expect(nextMembershipStep(view({ learners: ['n4'], progress: { n4: null } }))).toBeNull();
  });

  it('counts exactly catchUpEntries behind as caught up, one more as lagging', () => {
    expect(nextMembershipStep(view({ lastIndex: 1000, learners: ['n4'], progress: { n4: { match: 1000 - 64 } } }))).toEqual({ type: 'promote', id: 'n4' });
    expect(nextMembershipStep(view({ lastIndex: 1000, learners: ['n4'], progress: { n4: { match: 1000 - 65 } } }))).toBeNull();
    expect(nextMembershipStep(view({ lastIndex: 1000, catchUpEntries: 10, learners: ['n4'], progress: { n4: { match: 989 } } }))).toBeNull();
  });

  it('counts silent for exactly liveWithinMs as live, one millisecond more as not', () => {
    expect(nextMembershipStep(view({ learners: ['n4'], silent: { n4: 2_000 } }))).toEqual({ type: 'promote', id: 'n4' });
    expect(nextMembershipStep(view({ learners: ['n4'], silent: { n4: 2_001 } }))).toBeNull();
  });

  it('records before it promotes', () => {
    expect(nextMembershipStep(view({ learners: ['n4'], book: { n4: null } }))).toEqual({ type: 'record', id: 'n4', address: 'n4.lan:7400', role: 'learner' });
  });
});

describe('nextMembershipStep: demote (rule 4)', () => {
  const atCap = (o: ViewOptions = {}): MembershipView => view({ voters: FIVE_VOTERS, learners: ['n6'], ...o });

  it('demotes a voter silent past the grace period when a caught-up learner can take its seat', () => {
    expect(nextMembershipStep(atCap({ silent: { n3: 30_001 } }))).toEqual({ type: 'demote', id: 'n3', silentMs: 30_001 });
  });

  it('does not demote a voter silent for exactly the grace period', () => {
    expect(nextMembershipStep(atCap({ silent: { n3: 30_000 } }))).toBeNull();
  });

  it('never demotes the leader itself', () => {
    expect(nextMembershipStep(atCap({ silent: { n1: 10_000_000 } }))).toBeNull();
    expect(nextMembershipStep(atCap({ silent: { n1: 10_000_000, n4: 40_000 } }))).toEqual({ type: 'demote', id: 'n4', silentMs: 40_000 });
  });

  it('demotes the most silent voter first, the lowest id among equals', () => {
    expect(nextMembershipStep(atCap({ silent: { n2: 40_000, n4: 90_000, n5: 35_000 } }))).toEqual({ type: 'demote', id: 'n4', silentMs: 90_000 });
    expect(nextMembershipStep(atCap({ silent: { n5: 50_000, n2: 50_000 } }))).toEqual({ type: 'demote', id: 'n2', silentMs: 50_000 });
  });

  it('does not demote without a caught-up learner', () => {
    const silent = { n3: 60_000 };
    expect(nextMembershipStep(view({ voters: FIVE_VOTERS, silent }))).toBeNull();
    expect(nextMembershipStep(atCap({ silent, progress: { n6: { match: 0 } } }))).toBeNull();
    expect(nextMembershipStep(atCap({ silent, progress: { n6: { state: 'snapshot' } } }))).toBeNull();
    expect(nextMembershipStep(atCap({ silent: { ...silent, n6: 2_001 } }))).toBeNull();
  });

  it('promotes rather than demotes while voters are below the cap', () => {
    expect(nextMembershipStep(view({ voters: ['n1', 'n2', 'n3', 'n4'], learners: ['n6'], silent: { n3: 1_000_000 } }))).toEqual({ type: 'promote', id: 'n6' });
  });

  it('removes before it demotes', () => {
    expect(nextMembershipStep(atCap({ silent: { n3: 60_000 }, book: { n2: { address: addr('n2'), role: 'removed' } } }))).toEqual({
      type: 'removeNode',
      id: 'n2',
      why: 'marked removed',
    });
  });
});

describe('nextMembershipStep: determinism', () => {
  /** Every ordering of the list (the lists here are short). */
  function permutations<T>(xs: readonly T[]): T[][] {
    if (xs.length <= 1) return [[...xs]];
    return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
  }

  const scenarios: { name: string; options: ViewOptions; step: MembershipStep | null }[] = [
    {
      name: 'record',
      options: { voters: ['n1', 'a', 'B'], learners: ['c', 'D'], book: { a: null, B: null, c: null, D: null } },
      step: { type: 'record', id: 'B', address: 'B.lan:7400', role: 'voter' },
    },
    {
      name: 'removeNode',
      options: {
        voters: ['n1', 'n2', 'n3'],
        learners: ['n4', 'n5'],
        book: { n1: { address: addr('n1'), role: 'removed' }, n5: { address: addr('n5'), role: 'removed' }, n3: { address: addr('n3'), role: 'removed' } },
      },
      step: { type: 'removeNode', id: 'n3', why: 'marked removed' },
    },
    {
      name: 'promote',
      options: { voters: ['n1', 'n2', 'n3'], learners: ['n7', 'n4', 'n6', 'n5'], progress: { n4: { state: 'probe' } } },
      step: { type: 'promote', id: 'n5' },
    },
    {
      name: 'demote',
      options: { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: ['n7', 'n6'], silent: { n1: 1e9, n5: 50_000, n2: 50_000, n3: 40_000 } },
      step: { type: 'demote', id: 'n2', silentMs: 50_000 },
    },
    { name: 'nothing', options: { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: ['n6', 'n7'] }, step: null },
  ];

  it.each(scenarios)('gives the same $name step whatever the order of voters and learners', ({ options, step }) => {
    const voters = options.voters ?? [];
    const learners = options.learners ?? [];
    for (const vs of permutations(voters)) {
      for (const ls of permutations(learners)) {
        expect(nextMembershipStep(view({ ...options, voters: vs, learners: ls }))).toEqual(step);
      }
    }
  });
});
