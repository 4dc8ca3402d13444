/**
 * Read-side views of the catalog for the UI and the node runtime: by hash (NeDB's _id index),
 * newest first with paging and a name filter (FileOrder, beside NeDB: see file-order.ts for why).
 */
import type { ChunkRef, FileStatus, MemberRole } from './command-schemas.js';
import { chunksOf, fileId, lockId, statusId, type CatalogDoc, type FileDoc, type LockDoc, type MemberDoc } from './catalog-docs.js';
import type { Catalog } from './catalog.js';
import type { FileCursor } from './file-order.js';
import { invariant } from './errors.js';
import { isHash } from './hash.js';

export interface FileSummary {
  readonly hash: string;
  readonly names: readonly string[];
  readonly size: number;
  readonly mime: string;
  readonly chunkCount: number;
  readonly createdAtMs: number;
  readonly viaNode: string;
  readonly status: 'done' | 'duplicate';
}

export interface StoredFile extends FileSummary {
  /** In file order. */
  readonly chunks: readonly ChunkRef[];
}

export interface FilePage {
  readonly files: readonly FileSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface ListFilesQuery {
  /** 1..1000. */
  readonly limit: number;
  readonly cursor?: string | null;
  /** Case-insensitive substring of any of the file's names. */
  readonly nameContains?: string;
}

export interface StatusView {
  readonly hash: string;
  readonly status: FileStatus;
  readonly message?: string;
}

export type LockView = Omit<LockDoc, '_id' | 'kind'>;
export interface MemberView {
  readonly id: string;
  readonly address: string;
  readonly role: MemberRole;
}

export const LIST_LIMIT_MAX = 1000;
const cursorPattern = /^(\d{1,16})\.([0-9a-f]{64})$/;

export class CatalogQueries {
  /** A getter, not a catalog: restore and rebuild swap the catalog underneath. */
  constructor(private readonly catalog: () => Catalog) {}

  async getFile(hash: string): Promise<StoredFile | null> {
    const doc = await this.byId(fileId(hash));
    return doc?.kind === 'file' ? { ...summaryOf(doc), chunks: chunksOf(doc) } : null;
  }

  async listFiles(query: ListFilesQuery): Promise<FilePage> {
    const { limit, cursor = null, nameContains = '' } = query;
    invariant(Number.isInteger(limit) && limit >= 1 && limit <= LIST_LIMIT_MAX, () => `limit must be an integer in 1..${LIST_LIMIT_MAX}, got ${limit}`);
    const { hashes, more } = this.catalog().order.page(parseCursor(cursor), limit, nameContains.toLowerCase());
    const docs = (await this.catalog().find({ _id: { $in: hashes.map(fileId) } })) as FileDoc[];
    const byHash = new Map(docs.map((d) => [d.hash, d]));
    // An apply may delete a file between the page and the lookup: it is simply not listed.
    const files = hashes.map((h) => byHash.get(h)).filter((d): d is FileDoc => d !== undefined);
    const last = files[files.length - 1];
    return { files: files.map(summaryOf), nextCursor: more && last !== undefined ? `${last.createdAtMs}.${last.hash}` : null };
  }

  /** A stored file's outcome (done/duplicate), else the latest status of an upload in progress, else null. */
  async getStatus(hash: string): Promise<StatusView | null> {
    if (!isHash(hash)) return null;
    const file = await this.byId(fileId(hash));
    if (file?.kind === 'file') return { hash, status: file.status };
    const status = await this.byId(statusId(hash));
    if (status?.kind !== 'status') return null;
    return status.message === undefined ? { hash, status: status.status } : { hash, status: status.status, message: status.message };
  }

  async getLock(key: string): Promise<LockView | null> {
    const doc = await this.byId(lockId(key));
    return doc?.kind === 'lock' ? lockViewOf(doc) : null;
  }

  async listLocks(): Promise<LockView[]> {
    const docs = (await this.catalog().find({ kind: 'lock' })) as LockDoc[];
    return docs.map(lockViewOf).sort((a, b) => a.key.localeCompare(b.key));
  }

  async listMembers(): Promise<MemberView[]> {
    const docs = (await this.catalog().find({ kind: 'member' })) as MemberDoc[];
    return docs.map((d) => ({ id: d.id, address: d.address, role: d.role })).sort((a, b) => a.id.localeCompare(b.id));
  }

  private byId(id: string): Promise<CatalogDoc | null> {
    return this.catalog().findById(id);
  }
}

function summaryOf(doc: FileDoc): FileSummary {
  const { hash, names, size, mime, createdAtMs, viaNode, status } = doc;
  return { hash, names, size, mime, chunkCount: doc.chunkSizes.length, createdAtMs, viaNode, status };
}

function lockViewOf(doc: LockDoc): LockView {
  const { key, holder, token, ttlMs, acquiredAtMs, leaseExpiresAtMs } = doc;
  return { key, holder, token, ttlMs, acquiredAtMs, leaseExpiresAtMs };
}

function parseCursor(cursor: string | null): FileCursor | null {
  if (cursor === null) return null;
  const match = cursorPattern.exec(cursor);
  invariant(match !== null, () => `not a cursor from listFiles: ${JSON.stringify(cursor)}`);
  return { createdAtMs: Number(match[1]), hash: match[2] ?? '' };
}
