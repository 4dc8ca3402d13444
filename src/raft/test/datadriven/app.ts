import { validateConfChange } from '../../conf-change.js';
import type { ConfChange, ConfState, Entry, Snapshot } from '../../types.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

interface Applied {
  readonly index: number;
  readonly value: string;
}

/**
 * A node's application state machine: the payloads applied so far, and the membership as of
 * every applied index. It is what a snapshot captures, so a snapshot can be taken at any
 * applied index and a restarted node rebuilds it from its storage's snapshot.
 */
export class AppState {
  applied = 0;
  private values: Applied[] = [];
  /** Membership changes in index order; the first is the starting configuration. */
  private confs: { index: number; cs: ConfState }[];

  constructor(base: Snapshot) {
    this.applied = base.metadata.index;
    this.confs = [{ index: base.metadata.index, cs: base.metadata.confState }];
    if (base.data.length > 0) this.values = JSON.parse(decoder.decode(base.data)) as Applied[];
  }

  apply(e: Entry): void {
    this.applied = e.index;
    if (e.kind === 'normal') {
      if (e.data.length > 0) this.values.push({ index: e.index, value: decoder.decode(e.data) });
      return;
    }
    // Mirrors the core: an invalid change is skipped by every node alike.
    const cs = this.confState();
    if (validateConfChange(cs, e.change) === null) this.confs.push({ index: e.index, cs: nextConf(cs, e.change) });
  }

  confState(at = this.applied): ConfState {
    let cs = this.confs[0]!.cs;
    for (const c of this.confs) if (c.index <= at) cs = c.cs;
    return cs;
  }

  /** The state as of applied index `at`, encoded as a snapshot payload. */
  encode(at: number): Uint8Array {
    return encoder.encode(JSON.stringify(this.values.filter((v) => v.index <= at)));
  }

  list(): string[] {
    return this.values.map((v) => v.value);
  }
}

function nextConf(cs: ConfState, c: ConfChange): ConfState {
  const voters = cs.voters.filter((v) => v !== c.node);
  const learners = cs.learners.filter((l) => l !== c.node);
  if (c.type === 'addVoter') voters.push(c.node);
  if (c.type === 'addLearner') learners.push(c.node);
  return { voters: voters.sort(byId), learners: learners.sort(byId) };
}

/** Numeric ids sort numerically ("2" before "10"); others lexically. */
export function byId(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  return Number.isInteger(x) && Number.isInteger(y) ? x - y : a < b ? -1 : a > b ? 1 : 0;
}
