/**
 * The state machine's snapshot: every catalog document plus the sorted list of referenced chunk
 * hashes (never chunk bytes: a follower fetches the chunks it lacks by hash). Self-checking:
 *
 *   offset 0   8 bytes  magic "LARDSNAP"
 *   offset 8   u16 BE   format version (1)
 *   offset 10  u16 BE   flags (0)
 *   offset 12  u32 BE   reserved (0)
 *   offset 16  u64 BE   body length
 *   offset 24  32 bytes SHA-256 of the body
 *   offset 56  body: UTF-8 lines. Line 1: {"appliedIndex","docCount","chunkCount"}; then docCount
 *              documents as JSON, the meta document first; then chunkCount hashes.
 *
 * Lines rather than one JSON value: no single string grows with the catalog (V8 caps strings at ~512 MB).
 */
import { z } from 'zod';
import { parseCatalogDoc, type CatalogDoc, type DataDoc, type MetaDoc } from './catalog-docs.js';
import { ChunkRefs } from './chunk-refs.js';
import { SnapshotCorruptError, SnapshotUnsupportedError } from './errors.js';
import { bytesEqual, isHash, sha256Bytes } from './hash.js';
import { StateDigest } from './state-digest.js';

const MAGIC = Buffer.from('LARDSNAP', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = 56;
const NEWLINE = 0x0a;

const headerLineSchema = z.object({ appliedIndex: z.number().int().min(0), docCount: z.number().int().min(1), chunkCount: z.number().int().min(0) }).strict();

export interface SnapshotContent {
  readonly meta: MetaDoc;
  /** Every document, meta included. */
  readonly docs: readonly CatalogDoc[];
  /** Sorted, unique. */
  readonly referencedChunks: readonly string[];
}

export function encodeSnapshot(meta: MetaDoc, docs: readonly DataDoc[], referencedChunks: readonly string[]): Uint8Array {
  const line = (text: string) => Buffer.from(`${text}\n`, 'utf8');
  const parts = [
    line(JSON.stringify({ appliedIndex: meta.appliedIndex, docCount: docs.length + 1, chunkCount: referencedChunks.length })),
    line(JSON.stringify(meta)),
  ];
  for (const doc of docs) parts.push(line(JSON.stringify(doc)));
  for (const hash of referencedChunks) parts.push(line(hash));
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt16BE(SNAPSHOT_FORMAT_VERSION, 8);
  header.writeBigUInt64BE(BigInt(body.length), 16);
  header.set(sha256Bytes(body), 24);
  return new Uint8Array(Buffer.concat([header, body]));
}

/** Verifies framing, checksum, every document, the digest and the chunk list; throws SnapshotCorruptError naming `where`. */
export function decodeSnapshot(bytes: Uint8Array, where = '(bytes)'): SnapshotContent {
  const body = verifyFrame(bytes, where);
  const lines = splitLines(body, where);
  const header = headerLineSchema.safeParse(parseJson(lines[0] ?? '', where, 'header line'));
  if (!header.success) throw new SnapshotCorruptError(where, `bad header line: ${header.error.message}`);
  const { appliedIndex, docCount, chunkCount } = header.data;
  if (lines.length !== 1 + docCount + chunkCount) throw new SnapshotCorruptError(where, `expected ${1 + docCount + chunkCount} lines, found ${lines.length}`);
  const docs: CatalogDoc[] = [];
  const digest = new StateDigest();
  for (let i = 1; i <= docCount; i++) {
    const line = lines[i] ?? '';
    const parsed = parseCatalogDoc(parseJson(line, where, `document line ${i + 1}`));
    if (!parsed.ok) throw new SnapshotCorruptError(where, `document on line ${i + 1} is invalid: ${parsed.why}`);
    if (i > 1) digest.toggle(line);
    docs.push(parsed.doc);
  }
  const meta = docs[0];
  if (meta?.kind !== 'meta' || docs.slice(1).some((d) => d.kind === 'meta'))
    throw new SnapshotCorruptError(where, 'the meta document must come first and only once');
  if (meta.appliedIndex !== appliedIndex) throw new SnapshotCorruptError(where, `header says index ${appliedIndex}, meta says ${meta.appliedIndex}`);
  if (meta.digest !== digest.toHex()) throw new SnapshotCorruptError(where, 'documents do not match the digest in the meta document');
  const referencedChunks = lines.slice(1 + docCount);
  verifyChunkList(referencedChunks, docs, where);
  return { meta, docs, referencedChunks };
}

/** The applied index a snapshot was taken at, after verifying its checksum (for the Raft snapshot's metadata). */
export function snapshotAppliedIndex(bytes: Uint8Array): number {
  return decodeSnapshot(bytes).meta.appliedIndex;
}

function verifyFrame(bytes: Uint8Array, where: string): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES) throw new SnapshotCorruptError(where, `${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new SnapshotCorruptError(where, 'bad magic: not a Larder state machine snapshot');
  const version = buf.readUInt16BE(8);
  if (version === 0) throw new SnapshotCorruptError(where, 'format version 0 does not exist');
  if (version > SNAPSHOT_FORMAT_VERSION) throw new SnapshotUnsupportedError(where, version, SNAPSHOT_FORMAT_VERSION);
  if (buf.readUInt16BE(10) !== 0 || buf.readUInt32BE(12) !== 0) throw new SnapshotCorruptError(where, 'reserved header bytes are not zero');
  const bodyLength = buf.readBigUInt64BE(16);
  if (bodyLength !== BigInt(buf.length - HEADER_BYTES))
    throw new SnapshotCorruptError(where, `header says ${bodyLength} body bytes, found ${buf.length - HEADER_BYTES} (truncated or extended)`);
  const body = buf.subarray(HEADER_BYTES);
  if (!bytesEqual(sha256Bytes(body), buf.subarray(24, HEADER_BYTES)))
    throw new SnapshotCorruptError(where, 'SHA-256 checksum mismatch: the bytes were altered');
  return body;
}

function splitLines(body: Buffer, where: string): string[] {
  if (body.length === 0 || body[body.length - 1] !== NEWLINE) throw new SnapshotCorruptError(where, 'the body does not end with a newline');
  const lines: string[] = [];
  for (let start = 0; start < body.length;) {
    const end = body.indexOf(NEWLINE, start);
    lines.push(body.toString('utf8', start, end));
    start = end + 1;
  }
  return lines;
}

function parseJson(line: string, where: string, what: string): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw new SnapshotCorruptError(where, `${what} is not JSON (${(error as Error).message})`);
  }
}

function verifyChunkList(chunks: readonly string[], docs: readonly CatalogDoc[], where: string): void {
  for (let i = 0; i < chunks.length; i++) {
    const hash = chunks[i] ?? '';
    if (!isHash(hash)) throw new SnapshotCorruptError(where, `chunk list entry ${i} is not a hash`);
    if (i > 0 && hash <= (chunks[i - 1] ?? '')) throw new SnapshotCorruptError(where, 'the chunk list is not sorted and unique');
  }
  const derived = ChunkRefs.fromDocs(docs.filter((d) => d.kind === 'file')).sorted();
  const same = derived.length === chunks.length && derived.every((h, i) => h === chunks[i]);
  if (!same) throw new SnapshotCorruptError(where, 'the chunk list does not match the chunks the manifests reference');
}
