import { createHash } from 'node:crypto';

/** The chunk size uploads are split into (the recipe system's GridFS default); also the upper bound of a chunk. */
export const CHUNK_SIZE_MAX_BYTES = 255 * 1024;

/** Length of a SHA-256 hash in lowercase hex. */
export const HASH_HEX_LENGTH = 64;

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

export function isHash(s: string): boolean {
  return HASH_PATTERN.test(s);
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Bytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** True when both hold the same bytes (digests here guard integrity, not secrets: no timing concern). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
