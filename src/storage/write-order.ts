import { invariant, type Entry } from '../raft/index.js';

/**
 * Where the log will start and end once every queued append is durable. Appends are checked
 * against it when called, so many can be in flight (group commit) while each is still validated
 * in order, as MemoryStorage.append validates against its log.
 */
export class Projection {
  constructor(
    public startIndex: number,
    public lastIndex: number,
  ) {}

  /**
   * MemoryStorage.append's rules: entries at or before the start are dropped (already compacted);
   * the rest must not leave a gap. Returns what to write and moves the projected end.
   */
  planAppend(entries: readonly Entry[]): Entry[] {
    const first = entries[0];
    if (first === undefined) return [];
    assertContiguous(entries);
    const fresh = first.index <= this.startIndex ? entries.slice(this.startIndex + 1 - first.index) : [...entries];
    const freshFirst = fresh[0];
    if (freshFirst === undefined) return [];
    invariant(freshFirst.index <= this.lastIndex + 1, () => `append at ${freshFirst.index} leaves a gap after the last index ${this.lastIndex}`);
    this.lastIndex = fresh.at(-1)!.index;
    return fresh;
  }
}

function assertContiguous(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    const cur = entries[i]!;
    invariant(cur.index === prev.index + 1, () => `entries not contiguous: ${prev.index} then ${cur.index}`);
    invariant(cur.term >= prev.term, () => `entry terms decrease: ${prev.term} then ${cur.term} at ${cur.index}`);
  }
}

/**
 * Orders operations that must see a quiet log (snapshots, compaction, bootstrap) with the
 * pipelined appends: an exclusive operation waits for every earlier one and for the WAL to drain;
 * appends called meanwhile wait for it, in call order.
 */
export class WriteOrder {
  private barrier: Promise<void> | null = null;

  constructor(private readonly drained: () => Promise<void>) {}

  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = (this.barrier ?? Promise.resolve()).then(async () => {
      await this.drained();
      return operation();
    });
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.barrier = settled;
    void settled.then(() => {
      if (this.barrier === settled) this.barrier = null;
    });
    return run;
  }

  /**
   * Runs `operation` now if nothing exclusive is pending, else right after it. Operations start
   * (and so become durable) in call order; their promises may settle a microtask or two out of
   * order (one that waited resolves through one more promise), never a round apart.
   */
  inOrder<T>(operation: () => Promise<T>): Promise<T> {
    return this.barrier === null ? operation() : this.barrier.then(operation);
  }
}
