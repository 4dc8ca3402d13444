import type { Entry } from '../raft/index.js';
import { crc32c } from './crc32c.js';
import type { EntryCache } from './entry-cache.js';
import type { EntryLocation } from './entry-index.js';
import { walCorrupt } from './errors.js';
import { ENTRY_HEADER_BYTES, decodeEntryBody } from './wal/entry-codec.js';
import { segmentPath } from './wal/segment-files.js';
import type { Wal } from './wal/wal.js';

/**
 * Serves entries from the cache or, synchronously, from their segment. Every read from disk is
 * checked against the entry's CRC and its index and term before it is returned: a bit flipped
 * after recovery verified the segment must fail loudly, never reach the state machine.
 */
export class EntryReader {
  constructor(
    private readonly wal: Wal,
    private readonly cache: EntryCache,
    private readonly walDir: string,
    private readonly dataDir: string,
  ) {}

  read(loc: EntryLocation): Entry {
    const cached = this.cache.get(loc.index, loc.term);
    if (cached !== undefined) return cached;
    const body = this.wal.readSync(loc.segmentSeq, loc.offset, loc.length);
    const file = segmentPath(this.walDir, loc.segmentSeq);
    if (crc32c(body) !== loc.crc) throw walCorrupt(file, loc.offset, `entry ${loc.index} fails its checksum on read`, this.dataDir);
    const entry = decodeEntryBody(body);
    if (entry === null || entry.index !== loc.index || entry.term !== loc.term) {
      throw walCorrupt(file, loc.offset, `entry ${loc.index} decodes as something else`, this.dataDir);
    }
    this.cache.put(entry);
    return entry;
  }
}

/** entrySize (the Raft core's batching measure) from the index alone, without reading the entry. */
export function locationEntrySize(loc: EntryLocation): number {
  const headerBytes = 24;
  return headerBytes + (loc.kind === 'normal' ? loc.length - ENTRY_HEADER_BYTES : 48);
}
