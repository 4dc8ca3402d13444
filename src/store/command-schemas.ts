/**
 * The replicated command set: what a committed Raft entry can ask of the state machine. Schemas
 * bound every field, so a command that decodes is one the state machine can apply.
 */
import { z } from 'zod';
import { CHUNK_SIZE_MAX_BYTES, HASH_PATTERN } from './hash.js';

const safeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// A regex check, not a refine: cheaper, and this runs for every document loaded.
export const hashSchema = z.string().regex(HASH_PATTERN, 'expected a SHA-256 hash as 64 lowercase hex characters');
export const timestampMsSchema = safeInt;
/** A fencing token is the Raft index of the acquireLock entry that granted the lock. */
export const tokenSchema = safeInt.min(1);
const shortText = (maxLength: number) => z.string().min(1).max(maxLength);

/** One hour: a holder that needs longer keeps the lease alive instead. */
export const LEASE_TTL_MAX_MS = 60 * 60 * 1000;
/** 2^20 chunks of 255 KiB: about 255 GiB per file. */
export const CHUNKS_PER_FILE_MAX = 1 << 20;

export const chunkRefSchema = z.object({ hash: hashSchema, size: z.number().int().min(1).max(CHUNK_SIZE_MAX_BYTES) }).strict();

export const manifestSchema = z
  .object({
    hash: hashSchema,
    name: shortText(1024),
    size: safeInt,
    mime: shortText(255),
    chunks: z.array(chunkRefSchema).max(CHUNKS_PER_FILE_MAX),
    createdAtMs: timestampMsSchema,
    viaNode: shortText(256),
  })
  .strict()
  .superRefine((m, ctx) => {
    const total = m.chunks.reduce((sum, c) => sum + c.size, 0);
    if (total !== m.size) ctx.addIssue({ code: 'custom', path: ['chunks'], message: `chunk sizes add up to ${total}, not to size ${m.size}` });
  });

export const fileStatusSchema = z.enum(['queued', 'processing', 'done', 'duplicate', 'error']);
/** done and duplicate are outcomes of commitFile only: a status never claims a file that is not stored. */
export const settableStatusSchema = z.enum(['queued', 'processing', 'error']);
export const memberRoleSchema = z.enum(['voter', 'learner', 'removed']);

const lockKey = shortText(512);

/** Per command type: the JSON metadata schema. putChunk's bytes travel raw after the metadata. */
export const commandMetadataSchemas = {
  putChunk: z.object({ hash: hashSchema }).strict(),
  acquireLock: z.object({ key: lockKey, holder: shortText(256), ttlMs: z.number().int().min(1).max(LEASE_TTL_MAX_MS), nowMs: timestampMsSchema }).strict(),
  keepAliveLock: z.object({ key: lockKey, token: tokenSchema, nowMs: timestampMsSchema }).strict(),
  releaseLock: z.object({ key: lockKey, token: tokenSchema }).strict(),
  // nowMs: like acquireLock, the proposer's clock travels in the entry so the lease check is deterministic.
  commitFile: z.object({ manifest: manifestSchema, token: tokenSchema, nowMs: timestampMsSchema }).strict(),
  setStatus: z.object({ hash: hashSchema, status: settableStatusSchema, message: z.string().max(2048).optional() }).strict(),
  deleteFile: z.object({ hash: hashSchema }).strict(),
  setMember: z.object({ id: shortText(256), address: shortText(512), role: memberRoleSchema }).strict(),
  removeMember: z.object({ id: shortText(256) }).strict(),
} as const;

export type CommandType = keyof typeof commandMetadataSchemas;
type Metadata<T extends CommandType> = z.infer<(typeof commandMetadataSchemas)[T]>;

export type FileManifest = z.infer<typeof manifestSchema>;
export type ChunkRef = z.infer<typeof chunkRefSchema>;
export type FileStatus = z.infer<typeof fileStatusSchema>;
export type SettableStatus = z.infer<typeof settableStatusSchema>;
export type MemberRole = z.infer<typeof memberRoleSchema>;

export type PutChunk = { type: 'putChunk'; data: Uint8Array } & Metadata<'putChunk'>;
export type AcquireLock = { type: 'acquireLock' } & Metadata<'acquireLock'>;
export type KeepAliveLock = { type: 'keepAliveLock' } & Metadata<'keepAliveLock'>;
export type ReleaseLock = { type: 'releaseLock' } & Metadata<'releaseLock'>;
export type CommitFile = { type: 'commitFile' } & Metadata<'commitFile'>;
export type SetStatus = { type: 'setStatus' } & Metadata<'setStatus'>;
export type DeleteFile = { type: 'deleteFile' } & Metadata<'deleteFile'>;
export type SetMember = { type: 'setMember' } & Metadata<'setMember'>;
export type RemoveMember = { type: 'removeMember' } & Metadata<'removeMember'>;

export type Command = PutChunk | AcquireLock | KeepAliveLock | ReleaseLock | CommitFile | SetStatus | DeleteFile | SetMember | RemoveMember;

/** Wire opcodes. Append only: an opcode, once shipped, keeps its meaning forever. */
export const opcodes: Readonly<Record<CommandType, number>> = {
  putChunk: 1,
  acquireLock: 2,
  keepAliveLock: 3,
  releaseLock: 4,
  commitFile: 5,
  setStatus: 6,
  deleteFile: 7,
  setMember: 8,
  removeMember: 9,
};

export const commandTypeByOpcode: ReadonlyMap<number, CommandType> = new Map(Object.entries(opcodes).map(([type, op]) => [op, type as CommandType]));

/** The lock a commitFile of `hash` must hold. */
export function fileLockKey(hash: string): string {
  return `file:${hash}`;
}

/** "chunks.0.size: Expected number" lines for error messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
