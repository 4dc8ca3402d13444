/**
 * The catalog's datafile, in NeDB's format (one JSON document per line; a later line for the same
 * _id replaces it; {"$$deleted":true,"_id":…} removes it), read and written here rather than by
 * NeDB's persistence, which measured too heavy for 100,000 files: its loader took 6.7 s and left
 * 464 MB RSS (a promise per line, then a full rewrite holding every line in an array), before any
 * of our checks. Here: a streaming reader, one append per applied entry (all its writes and the
 * meta line in one write, so a crash tears at most that one entry), and atomic full rewrites.
 * The meta document is the first line of a full image and the last line of every append.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parseCatalogDoc, type DataDoc, type MetaDoc } from './catalog-docs.js';
import { CatalogCorruptError } from './errors.js';
import { isNotFound, writeFileAtomic } from './fs-atomic.js';
import { StateDigest } from './state-digest.js';

export interface LoadedCatalog {
  readonly meta: MetaDoc;
  /** Validated, as parsed from disk (key order kept: the digest depends on it). */
  readonly docs: DataDoc[];
  readonly digest: StateDigest;
  /** Lines read, superseded ones included: tells how much an append-grown file would shrink on compaction. */
  readonly lines: number;
}

export const docLine = (doc: object) => `${JSON.stringify(doc)}\n`;
export const tombstoneLine = (id: string) => `${JSON.stringify({ $$deleted: true, _id: id })}\n`;

/** null if the file does not exist; throws CatalogCorruptError for anything but an intact, consistent file. */
export async function readCatalogFile(filename: string): Promise<LoadedCatalog | null> {
  const latest = new Map<string, unknown>();
  let meta: unknown = null;
  let lines = 0;
  const onLine = (line: string) => {
    lines++;
    if (line === '') return;
    const doc = parseLine(filename, line, lines);
    if (doc.$$deleted === true) latest.delete(String(doc._id));
    else if (doc._id === 'meta') meta = doc;
    else latest.set(String(doc._id), doc);
  };
  try {
    await forEachLine(filename, onLine);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  return verify(filename, meta, latest, lines);
}

/** A full image, atomically: meta line first, then every document. */
export async function writeCatalogFile(filename: string, meta: MetaDoc, docs: Iterable<DataDoc>, options: { fsync?: boolean } = {}): Promise<void> {
  const parts: Buffer[] = [Buffer.from(docLine(meta))];
  let batch = '';
  for (const doc of docs) {
    batch += docLine(doc);
    if (batch.length > 1 << 20) {
      parts.push(Buffer.from(batch));
      batch = '';
    }
  }
  parts.push(Buffer.from(batch));
  await writeFileAtomic(filename, parts, options);
}

function parseLine(filename: string, line: string, lineNumber: number): Record<string, unknown> {
  try {
    const doc: unknown = JSON.parse(line);
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CatalogCorruptError(filename, `line ${lineNumber} is not a JSON document`);
}

function verify(filename: string, meta: unknown, latest: Map<string, unknown>, lines: number): LoadedCatalog {
  if (meta === null) throw new CatalogCorruptError(filename, 'it has no meta document (empty or cut short)');
  const parsedMeta = parseCatalogDoc(meta);
  if (!parsedMeta.ok || parsedMeta.doc.kind !== 'meta')
    throw new CatalogCorruptError(filename, `its meta document is invalid: ${parsedMeta.ok ? 'wrong kind' : parsedMeta.why}`);
  const digest = new StateDigest();
  const docs: DataDoc[] = [];
  const interned = new Map<string, string>();
  for (const [id, raw] of latest) {
    const parsed = parseCatalogDoc(raw);
    if (!parsed.ok || parsed.doc.kind === 'meta')
      throw new CatalogCorruptError(filename, `document ${JSON.stringify(id)} is invalid: ${parsed.ok ? 'a second meta document' : parsed.why}`);
    digest.toggle(JSON.stringify(raw));
    docs.push(shareStrings(raw as DataDoc, interned));
  }
  if (parsedMeta.doc.digest !== digest.toHex())
    throw new CatalogCorruptError(filename, 'its documents do not match the digest in its meta document: some were lost, added or altered');
  return { meta: parsedMeta.doc, docs, digest, lines };
}

/**
 * Parsing gives every document its own copy of every string. For 100,000 files that is ~16 MB
 * of duplicates: a file's _id and hash (equal by schema) and the few distinct MIME types and node
 * ids. Shared after validation, so the digest (over the JSON) is unaffected.
 */
function shareStrings(doc: DataDoc, interned: Map<string, string>): DataDoc {
  if (doc.kind !== 'file') return doc;
  const intern = (s: string) => {
    const known = interned.get(s);
    if (known !== undefined) return known;
    if (interned.size < 10_000) interned.set(s, s);
    return s;
  };
  doc._id = doc.hash;
  doc.mime = intern(doc.mime);
  doc.viaNode = intern(doc.viaNode);
  return doc;
}

/** Streams the file line by line (bounded memory); a last line without its newline is a torn write. */
async function forEachLine(filename: string, onLine: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of createReadStream(filename, { highWaterMark: 1 << 20 })) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      onLine(text.slice(start, end));
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') throw new CatalogCorruptError(filename, 'its last line is cut short (a torn write)');
}
