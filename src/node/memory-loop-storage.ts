import { MemoryStorage, type Ready } from '../raft/index.js';
import type { LoopStorage } from './raft-loop.js';

/** MemoryStorage with the async write side the loop expects: for tests and in-process demos. */
export class MemoryLoopStorage extends MemoryStorage implements LoopStorage {
  async save(rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot' | 'mustSync'>): Promise<void> {
    if (rd.snapshot) this.applySnapshot(rd.snapshot);
    this.append(rd.entries);
    if (rd.hardState) this.setHardState(rd.hardState);
  }
}
