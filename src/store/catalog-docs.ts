/**
 * Documents of the catalog, told apart by `kind`. Every document read from disk or a snapshot is
 * validated here, and every document written is validated (and its key order fixed) here first.
 *
 * A file's chunk list is stored compactly, as one string of concatenated hashes plus an array of
 * sizes: 100,000 files with 1–8 chunks would otherwise cost ~450,000 small objects and strings.
 */
import { z } from 'zod';
import { hashSchema, memberRoleSchema, settableStatusSchema, timestampMsSchema, type ChunkRef, type FileManifest } from './command-schemas.js';
import { HASH_HEX_LENGTH } from './hash.js';

const concatenatedHashes = /^(?:[0-9a-f]{64})*$/;
const index = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Bounds the names list: the same content uploaded under ever new names must not grow a document forever. */
export const NAMES_PER_FILE_MAX = 256;

/** Bumped when documents change shape; a catalog of another version is rebuilt, never migrated in place. */
export const CATALOG_FORMAT_VERSION = 1;
export const META_ID = 'meta';

export const metaDocSchema = z
  .object({
    _id: z.literal(META_ID),
    kind: z.literal('meta'),
    formatVersion: z.number().int(),
    appliedIndex: index,
    /** The replicated clock: the largest proposer time seen in an applied entry. Never goes back. */
    clockMs: timestampMsSchema,
    /** StateDigest of every other document: how a load tells an intact catalog from a damaged one. */
    digest: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export const fileDocSchema = z
  .object({
    _id: z.string(),
    kind: z.literal('file'),
    hash: hashSchema,
    names: z.array(z.string().min(1).max(1024)).min(1).max(NAMES_PER_FILE_MAX),
    size: index,
    mime: z.string().min(1).max(255),
    chunkHashes: z.string(),
    chunkSizes: z.array(z.number().int().min(1)),
    createdAtMs: timestampMsSchema,
    viaNode: z.string().min(1).max(256),
    status: z.enum(['done', 'duplicate']),
    /** The Raft index of the commitFile that stored it: tells a re-applied entry from a duplicate. */
    createdIndex: index.min(1),
  })
  .strict()
  .superRefine((d, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (d._id !== fileId(d.hash)) fail(`_id ${d._id} does not match hash`);
    if (d.chunkHashes.length !== d.chunkSizes.length * HASH_HEX_LENGTH) fail('chunkHashes and chunkSizes disagree on the chunk count');
    if (!concatenatedHashes.test(d.chunkHashes)) fail('chunkHashes holds something other than SHA-256 hashes');
    if (d.chunkSizes.reduce((a, b) => a + b, 0) !== d.size) fail('chunk sizes do not add up to size');
  });

export const statusDocSchema = z
  .object({
    _id: z.string(),
    kind: z.literal('status'),
    hash: hashSchema,
    status: settableStatusSchema,
    message: z.string().max(2048).optional(),
  })
  .strict()
  .refine((d) => d._id === statusId(d.hash), '_id does not match hash');

export const lockDocSchema = z
  .object({
    _id: z.string(),
    kind: z.literal('lock'),
    key: z.string().min(1),
    holder: z.string().min(1),
    token: index.min(1),
    ttlMs: z.number().int().min(1),
    acquiredAtMs: timestampMsSchema,
    leaseExpiresAtMs: timestampMsSchema,
  })
  .strict()
  .refine((d) => d._id === lockId(d.key), '_id does not match key');

export const memberDocSchema = z
  .object({ _id: z.string(), kind: z.literal('member'), id: z.string().min(1), address: z.string().min(1), role: memberRoleSchema })
  .strict()
  .refine((d) => d._id === memberId(d.id), '_id does not match id');

export const catalogDocSchema = z.union([metaDocSchema, fileDocSchema, statusDocSchema, lockDocSchema, memberDocSchema]);

export type MetaDoc = z.infer<typeof metaDocSchema>;
export type FileDoc = z.infer<typeof fileDocSchema>;
export type StatusDoc = z.infer<typeof statusDocSchema>;
export type LockDoc = z.infer<typeof lockDocSchema>;
export type MemberDoc = z.infer<typeof memberDocSchema>;
export type CatalogDoc = MetaDoc | FileDoc | StatusDoc | LockDoc | MemberDoc;
/** Every document but the meta document: what the NeDB datastore holds. */
export type DataDoc = Exclude<CatalogDoc, MetaDoc>;

const schemaByKind = { meta: metaDocSchema, file: fileDocSchema, status: statusDocSchema, lock: lockDocSchema, member: memberDocSchema } as const;

/** Validates by kind (a union parse would report five schemas' issues for one bad field). */
export function parseCatalogDoc(raw: unknown): { ok: true; doc: CatalogDoc } | { ok: false; why: string } {
  const kind = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
  const schema = typeof kind === 'string' && Object.hasOwn(schemaByKind, kind) ? schemaByKind[kind as keyof typeof schemaByKind] : undefined;
  if (schema === undefined) return { ok: false, why: `unknown document kind ${JSON.stringify(kind)}` };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, doc: parsed.data };
  return { ok: false, why: parsed.error.issues.map((i) => `${i.path.join('.') || '(doc)'}: ${i.message}`).join('; ') };
}

/**
 * A file document's _id is its bare hash: no other kind's _id can collide (theirs carry a "kind:"
 * prefix), and the loader can make _id and hash one string in memory (catalog-file.ts).
 */
export const fileId = (hash: string) => hash;
export const statusId = (hash: string) => `status:${hash}`;
export const lockId = (key: string) => `lock:${key}`;
export const memberId = (id: string) => `member:${id}`;

export function emptyMeta(): MetaDoc {
  return { _id: META_ID, kind: 'meta', formatVersion: CATALOG_FORMAT_VERSION, appliedIndex: 0, clockMs: 0, digest: '0'.repeat(64) };
}

export function splitHashes(chunkHashes: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < chunkHashes.length; i += HASH_HEX_LENGTH) out.push(chunkHashes.slice(i, i + HASH_HEX_LENGTH));
  return out;
}

export function fileDocFromManifest(m: FileManifest, createdIndex: number): FileDoc {
  return {
    _id: m.hash,
    kind: 'file',
    hash: m.hash,
    names: [m.name],
    size: m.size,
    mime: m.mime,
    chunkHashes: m.chunks.map((c) => c.hash).join(''),
    chunkSizes: m.chunks.map((c) => c.size),
    createdAtMs: m.createdAtMs,
    viaNode: m.viaNode,
    status: 'done',
    createdIndex,
  };
}

export function chunksOf(doc: FileDoc): ChunkRef[] {
  return splitHashes(doc.chunkHashes).map((hash, i) => ({ hash, size: doc.chunkSizes[i] ?? 0 }));
}
