import type { Entry } from '../../raft/index.js';

/*
 * Self-verifying entry payloads for the crash and corruption tests: a 16-byte header (index,
 * term, length, FNV-1a of everything else) and bytes that follow from (index, term). A payload
 * read back is checked on its own, with a hash independent of the WAL's CRC-32C, so a WAL bug
 * that returned the wrong bytes with a matching CRC would still be caught.
 */

const HEADER_BYTES = 16;

function fnv1a(bytes: Uint8Array, start: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = start; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

export function makePayload(index: number, term: number, length: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(HEADER_BYTES, length));
  let x = (index * 2654435761 + term * 40503 + 1) >>> 0 || 1;
  for (let i = HEADER_BYTES; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  const view = new DataView(bytes.buffer);
  view.setUint32(0, index, true);
  view.setUint32(4, term, true);
  view.setUint32(8, bytes.length, true);
  view.setUint32(12, fnv1a(bytes, HEADER_BYTES, index ^ term), true);
  return bytes;
}

export function makeEntry(index: number, term: number, length: number): Entry {
  return { kind: 'normal', index, term, data: makePayload(index, term, length) };
}

/** Null if the entry's payload is the one written for its index and term, else what is wrong. */
export function payloadProblem(e: Entry): string | null {
  if (e.kind !== 'normal') return null;
  const b = e.data;
  if (b.length < HEADER_BYTES) return `entry ${e.index}: payload of ${b.length} bytes is shorter than its header`;
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  if (view.getUint32(0, true) !== e.index || view.getUint32(4, true) !== e.term) {
    return `entry ${e.index}/${e.term}: payload belongs to ${view.getUint32(0, true)}/${view.getUint32(4, true)}`;
  }
  if (view.getUint32(8, true) !== b.length) return `entry ${e.index}: payload length ${b.length}, header says ${view.getUint32(8, true)}`;
  if (view.getUint32(12, true) !== fnv1a(b, HEADER_BYTES, e.index ^ e.term)) return `entry ${e.index}: payload content hash mismatch`;
  return null;
}
