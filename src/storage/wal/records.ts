import type { Entry, HardState, SnapshotMetadata } from '../../raft/index.js';
import { z } from 'zod';
import { crc32c, crc32cUpdate } from '../crc32c.js';
import { OFFLOAD_MIN_BYTES, crc32cUpdateOffloaded } from '../crc32c-worker.js';
import { ENTRY_HEADER_BYTES, decodeEntryHeader, entryPayload, writeEntryHeader } from './entry-codec.js';
import { FRAME_HEADER_BYTES, RecordType, TOC_HEADER_BYTES, TOC_ITEM_BYTES, encodeFrame } from './frame.js';
import { carve, type Carved } from './slab.js';

/**
 * Where the log starts and which snapshot covers it. Written when a snapshot is created or
 * installed and when the log is compacted, and at the head of every segment, so the newest marker
 * seen during replay is always the truth.
 */
export interface LogMarker {
  readonly snapshot: SnapshotMetadata;
  /** The compaction point: entries <= startIndex are gone; startTerm is the term of startIndex. */
  readonly startIndex: number;
  readonly startTerm: number;
  /** An installed snapshot replaces the whole log; a created one or a compaction keeps the suffix. */
  readonly resetsLog: boolean;
}

export type WalRecord =
  /** First record of every segment: the log's last index and term when the segment began. */
  | { readonly type: 'segmentStart'; readonly segmentSeq: number; readonly prevIndex: number; readonly prevTerm: number }
  | { readonly type: 'hardState'; readonly hardState: HardState }
  | { readonly type: 'logMarker'; readonly marker: LogMarker }
  /** A batch; replaying it truncates any entries at or after its first index (conflict truncation). */
  | { readonly type: 'entries'; readonly entries: readonly Entry[] };

/** Where one entry's body lies, relative to its record or (after writing) to its segment. */
export interface EntryPlacement {
  readonly index: number;
  readonly term: number;
  readonly kind: Entry['kind'];
  readonly offset: number;
  readonly length: number;
  readonly crc: number;
}

export interface EncodedRecord {
  readonly parts: Uint8Array[];
  readonly byteLength: number;
  /** For entries records: each entry's body, offsets relative to the record's first byte. */
  readonly placements: EntryPlacement[];
}

export function encodeRecord(r: WalRecord): EncodedRecord {
  if (r.type === 'entries') return encodeEntries(r.entries, false) as EncodedRecord;
  return encodePlain(r);
}

/**
 * As encodeRecord, but large entry payloads are checksummed on the worker thread
 * (crc32c-worker.ts): a promise when any was.
 */
export function encodeRecordOffloaded(r: WalRecord): EncodedRecord | Promise<EncodedRecord> {
  return r.type === 'entries' ? encodeEntries(r.entries, true) : encodePlain(r);
}

function encodePlain(r: Exclude<WalRecord, { type: 'entries' }>): EncodedRecord {
  const { type, ...fields } = r;
  const frame = encodeFrame(RecordType[type], new TextEncoder().encode(JSON.stringify(fields)));
  return { parts: [frame], byteLength: frame.length, placements: [] };
}

/**
 * Frame header, table of contents and every entry's header in one array carved from a slab (this
 * runs once per append: at 1 KiB entries its allocations, not the CRC, were the cost); payloads are
 * not copied. The table of contents holds the entries' CRCs and the frame CRC covers it, so the
 * frame CRC is computed last, once every entry's is known.
 */
function encodeEntries(entries: readonly Entry[], offload: boolean): EncodedRecord | Promise<EncodedRecord> {
  const n = entries.length;
  const headBytes = FRAME_HEADER_BYTES + TOC_HEADER_BYTES + n * TOC_ITEM_BYTES;
  const head = carve(headBytes + n * ENTRY_HEADER_BYTES);
  const { bytes: buf, view, base } = head;
  view.setUint32(base + FRAME_HEADER_BYTES, n, true);
  const parts: Uint8Array[] = [buf.subarray(0, headBytes)];
  const lengths = new Array<number>(n);
  const crcs = new Array<number | Promise<number>>(n);
  let pending = false;
  let offset = headBytes;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    const header = headBytes + i * ENTRY_HEADER_BYTES;
    writeEntryHeader(view, base + header, e);
    const payload = entryPayload(e);
    const headerCrc = crc32c(buf, header, header + ENTRY_HEADER_BYTES);
    const offloaded = offload && payload.length >= OFFLOAD_MIN_BYTES;
    pending ||= offloaded;
    crcs[i] = offloaded ? crc32cUpdateOffloaded(headerCrc, payload) : crc32cUpdate(headerCrc, payload);
    lengths[i] = ENTRY_HEADER_BYTES + payload.length;
    parts.push(buf.subarray(header, header + ENTRY_HEADER_BYTES));
    if (payload.length > 0) parts.push(payload);
    offset += lengths[i]!;
  }
  view.setUint32(base, offset - FRAME_HEADER_BYTES, true);
  view.setUint8(base + 4, RecordType.entries);
  const record = { head, headBytes, entries, lengths, parts, byteLength: offset };
  return pending ? Promise.all(crcs).then((done) => finishEntries(record, done)) : finishEntries(record, crcs as number[]);
}

interface EntriesRecordDraft {
  readonly head: Carved;
  readonly headBytes: number;
  readonly entries: readonly Entry[];
  readonly lengths: readonly number[];
  readonly parts: Uint8Array[];
  readonly byteLength: number;
}

/** Fills in the table of contents once every entry's CRC is known, then the frame CRC over it. */
function finishEntries(d: EntriesRecordDraft, entryCrcs: readonly number[]): EncodedRecord {
  const { bytes: buf, view, base } = d.head;
  const placements: EntryPlacement[] = [];
  let at = d.headBytes;
  for (let i = 0; i < d.entries.length; i++) {
    const e = d.entries[i]!;
    const item = base + FRAME_HEADER_BYTES + TOC_HEADER_BYTES + i * TOC_ITEM_BYTES;
    const length = d.lengths[i]!;
    const crc = entryCrcs[i]!;
    view.setUint32(item, length, true);
    view.setUint32(item + 4, crc, true);
    placements.push({ index: e.index, term: e.term, kind: e.kind, offset: at, length, crc });
    at += length;
  }
  view.setUint32(base + 8, crc32cUpdate(crc32c(buf, 0, 8), buf, FRAME_HEADER_BYTES, d.headBytes), true);
  return { parts: d.parts, byteLength: d.byteLength, placements };
}

/** A record read back during recovery; entries are described, not loaded. */
export type DecodedRecord = Exclude<WalRecord, { type: 'entries' }> | { readonly type: 'entries'; readonly placements: EntryPlacement[] };

/**
 * Decodes a frame that checkFrame accepted. Returns a string describing the problem when the
 * checksums match but the content is not what this code writes (a bug or a foreign file).
 */
export function decodeRecord(buf: Uint8Array, type: number, payloadStart: number, end: number): DecodedRecord | string {
  if (type === RecordType.entries) return decodeEntriesPlacements(buf, payloadStart, end);
  let fields: unknown;
  try {
    fields = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(payloadStart, end)));
  } catch (e) {
    return `record payload is not valid JSON (${String(e)})`;
  }
  const parsed = plainRecordSchema.safeParse({ ...(fields as object), type: recordTypeName(type) });
  return parsed.success ? parsed.data : `record does not have the expected fields: ${parsed.error.issues[0]?.message ?? 'unknown'}`;
}

function recordTypeName(type: number): string | undefined {
  return (Object.keys(RecordType) as (keyof typeof RecordType)[]).find((k) => RecordType[k] === type);
}

const u53 = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const hardStateSchema = z.object({ term: u53, vote: z.string().nullable(), commit: u53 });
const snapshotMetadataSchema = z.object({ index: u53, term: u53, confState: z.object({ voters: z.array(z.string()), learners: z.array(z.string()) }) });
/** What the JSON-encoded records must look like: a checksum proves the bytes, not the shape. */
const plainRecordSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('segmentStart'), segmentSeq: u53, prevIndex: u53, prevTerm: u53 }),
  z.object({ type: z.literal('hardState'), hardState: hardStateSchema }),
  z.object({
    type: z.literal('logMarker'),
    marker: z.object({ snapshot: snapshotMetadataSchema, startIndex: u53, startTerm: u53, resetsLog: z.boolean() }),
  }),
]);

function decodeEntriesPlacements(buf: Uint8Array, payloadStart: number, end: number): DecodedRecord | string {
  const view = new DataView(buf.buffer, buf.byteOffset + payloadStart, end - payloadStart);
  const count = view.getUint32(0, true);
  let offset = payloadStart + TOC_HEADER_BYTES + count * TOC_ITEM_BYTES;
  const placements: EntryPlacement[] = [];
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(TOC_HEADER_BYTES + i * TOC_ITEM_BYTES, true);
    const crc = view.getUint32(TOC_HEADER_BYTES + i * TOC_ITEM_BYTES + 4, true);
    const header = decodeEntryHeader(buf.subarray(offset, offset + length));
    if (header === null) return `entry ${i} of the batch has a bad header`;
    const prev = placements[i - 1];
    if (prev !== undefined && header.index !== prev.index + 1) return `entries batch not contiguous: ${prev.index} then ${header.index}`;
    placements.push({ ...header, offset, length, crc });
    offset += length;
  }
  return { type: 'entries', placements };
}
