import { randomBytes } from 'node:crypto';
import { TrustError } from './errors.js';

/**
 * The cluster secret: 256 random bits, written `lsec1-` + 52 base32 characters (RFC 4648
 * alphabet, lower case, no padding) so it survives being read aloud, typed, or pasted into a
 * prompt. Every node of a cluster holds the same one; it never leaves a node.
 */
const PREFIX = 'lsec1-';
const SECRET_BYTES = 32;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array | null {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** A fresh secret, for a new cluster. */
export function generateSecret(): string {
  return PREFIX + base32(randomBytes(SECRET_BYTES));
}

/** The secret's bytes; throws TrustError saying what is wrong and what a secret looks like. */
export function parseSecret(text: string): Uint8Array {
  const t = text.trim().toLowerCase();
  const example = `${PREFIX}${'x'.repeat(52)}`;
  if (!t.startsWith(PREFIX))
    throw new TrustError(`a cluster secret starts with "${PREFIX}" (like ${example}); copy it from a node of the cluster (larder secret show)`);
  const bytes = unbase32(t.slice(PREFIX.length));
  if (bytes === null) throw new TrustError(`the cluster secret has characters other than a-z and 2-7 after "${PREFIX}"; check for typos`);
  if (bytes.length !== SECRET_BYTES || t.length !== PREFIX.length + 52)
    throw new TrustError(`the cluster secret must have 52 characters after "${PREFIX}", this one has ${t.length - PREFIX.length}`);
  return bytes;
}
