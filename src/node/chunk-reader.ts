import { LRUCache } from 'lru-cache';
import type { NodeId } from '../raft/index.js';
import { ChunkCorruptError, sha256Hex, type ChunkStore } from '../store/index.js';
import type { Logger } from './log.js';

export interface ChunkSource {
  fetchChunk(peer: NodeId, hash: string): Promise<Uint8Array>;
}

export class ChunkUnavailableError extends Error {
  readonly code = 'CHUNK_UNAVAILABLE';
  constructor(hash: string, tried: string[]) {
    super(`chunk ${hash} is missing or corrupt here and no peer could supply a verified copy (tried: ${tried.join(', ') || 'no peers'})`);
    this.name = 'ChunkUnavailableError';
  }
}

/**
 * Reads chunks for downloads: from the cache (bounded in bytes), else the chunk store (which
 * verifies SHA-256 on every read), else from peers. A chunk fetched from a peer is verified,
 * written back to the local store (a repair) and logged.
 */
export class ChunkReader {
  private readonly cache: LRUCache<string, Uint8Array>;
  /** `joined`: reads that found the same chunk already being read and waited for that read instead of starting another. */
  readonly stats = { hits: 0, misses: 0, joined: 0, repairs: 0 };

  constructor(
    private readonly store: ChunkStore,
    private readonly peers: () => NodeId[],
    private readonly source: ChunkSource,
    private readonly log: Logger,
    cacheBytes: number,
  ) {
    this.cache = new LRUCache<string, Uint8Array>({
      maxSize: Math.max(1, cacheBytes),
      sizeCalculation: (v) => Math.max(1, v.length),
      // Many downloads of one cold file would otherwise each read (and verify) every chunk from disk.
      fetchMethod: (hash) => this.readLocalOrRepair(hash),
      // A chunk deleted while it is being read still completes the read that asked for it.
      ignoreFetchAbort: true,
    });
  }

  async read(hash: string): Promise<Uint8Array> {
    const status: LRUCache.Status<string, Uint8Array> = {};
    const data = await this.cache.fetch(hash, { status });
    if (status.fetch === 'hit') this.stats.hits++;
    else if (status.fetch === 'inflight') this.stats.joined++;
    else this.stats.misses++;
    if (!data) throw new Error(`chunk ${hash}: the cache's read returned nothing (a bug: reads either return bytes or throw)`);
    return data;
  }

  /** Puts a chunk into the cache (e.g. right after it was uploaded). */
  remember(hash: string, data: Uint8Array): void {
    this.cache.set(hash, data);
  }

  forget(hash: string): void {
    this.cache.delete(hash);
  }

  private async readLocalOrRepair(hash: string): Promise<Uint8Array> {
    try {
      return await this.store.get(hash);
    } catch (e) {
      if (!(e instanceof ChunkCorruptError)) throw e;
      this.log.error({ chunk: hash, reason: e.reason, path: e.path }, 'chunk missing or corrupt on disk; fetching a verified copy from a peer');
    }
    return this.repair(hash);
  }

  private async repair(hash: string): Promise<Uint8Array> {
    const tried: string[] = [];
    for (const peer of this.peers()) {
      tried.push(peer);
      try {
        const data = await this.source.fetchChunk(peer, hash);
        if (sha256Hex(data) !== hash) {
          this.log.warn({ chunk: hash, peer }, 'peer sent a chunk that does not match its hash; trying another');
          continue;
        }
        await this.store.put(hash, data);
        this.stats.repairs++;
        this.log.warn({ chunk: hash, peer }, 'chunk repaired from a peer');
        return data;
      } catch (e) {
        this.log.debug({ chunk: hash, peer, err: (e as Error).message }, 'peer could not supply chunk');
      }
    }
    throw new ChunkUnavailableError(hash, tried);
  }
}
