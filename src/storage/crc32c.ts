/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 metadata and
 * most write-ahead logs: better error detection than CRC-32 (IEEE) for the same cost.
 *
 * Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per iteration with eight
 * independent table lookups instead of one dependent lookup per byte (several times the byte-wise speed in
 * V8). Node 20 has no CRC-32C of its own (zlib.crc32 is IEEE and arrives only in Node 22).
 * Large inputs go through the same algorithm compiled to WebAssembly (crc32c-wasm.ts).
 */

import { wasmCrcKernel } from './crc32c-wasm.js';

const POLYNOMIAL_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;

/** tables[k * 256 + b]: CRC of byte b followed by k zero bytes. */
const tables = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(TABLE_COUNT * 256);
  for (let b = 0; b < 256; b++) {
    let crc = b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL_REFLECTED : crc >>> 1;
    t[b] = crc;
  }
  for (let k = 1; k < TABLE_COUNT; k++) {
    for (let b = 0; b < 256; b++) {
      const prev = t[(k - 1) * 256 + b]!;
      t[k * 256 + b] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/** A copy of the lookup tables, for the checksum worker (crc32c-worker.ts). */
export function crc32cTables(): Int32Array {
  return tables.slice();
}

/** The word loop reads little-endian 32-bit words: every machine Node runs on here is little-endian. */
const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
if (!hostIsLittleEndian) throw new Error('crc32c: this implementation reads little-endian words; port the word loop before running on a big-endian host');

/** Below this size the JS loop is as fast: copying into wasm memory and the call cost about what they save. */
const WASM_MIN_BYTES = 256;
const wasmKernel = wasmCrcKernel(tables);

/**
 * Extends `crc` (the CRC of the bytes before) with `bytes[start, end)`. Start from 0 for a fresh
 * checksum: crc32c(a ++ b) === crc32cUpdate(crc32c(a), b).
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (wasmKernel !== null && end - start >= WASM_MIN_BYTES) return wasmKernel(crc, bytes, start, end);
  return crc32cUpdatePortable(crc, bytes, start, end);
}

const SMALL_INPUT_BYTES = 64;

/** The plain JS implementation (every input size); exported so tests can hold the two against each other. */
export function crc32cUpdatePortable(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = ~crc;
  let i = start;
  if (end - start < SMALL_INPUT_BYTES) {
    // Headers of a few dozen bytes: a word view would cost more to create than it saves.
    while (i < end) c = (c >>> 8) ^ tables[(c ^ bytes[i++]!) & 0xff]!;
    return ~c >>> 0;
  }
  // Byte-wise up to a 4-byte boundary, so the middle can be read as aligned 32-bit words (reading
  // words instead of assembling them from bytes is what makes this ~3x faster in V8).
  const alignedStart = Math.min(end, start + ((4 - ((bytes.byteOffset + start) & 3)) & 3));
  while (i < alignedStart) c = (c >>> 8) ^ tables[(c ^ bytes[i++]!) & 0xff]!;
  const wordCount = ((end - i) >>> 3) << 1;
  if (wordCount > 0) {
    c = crcWords(c, new Int32Array(bytes.buffer, bytes.byteOffset + i, wordCount));
    i += wordCount * 4;
  }
  while (i < end) c = (c >>> 8) ^ tables[(c ^ bytes[i++]!) & 0xff]!;
  return ~c >>> 0;
}

/** Slicing-by-8 over pairs of little-endian words. */
function crcWords(crc: number, words: Int32Array): number {
  const t = tables;
  let c = crc;
  for (let w = 0; w < words.length; w += 2) {
    const lo = c ^ words[w]!;
    const hi = words[w + 1]!;
    c =
      t[0x700 + (lo & 0xff)]! ^
      t[0x600 + ((lo >>> 8) & 0xff)]! ^
      t[0x500 + ((lo >>> 16) & 0xff)]! ^
      t[0x400 + (lo >>> 24)]! ^
      t[0x300 + (hi & 0xff)]! ^
      t[0x200 + ((hi >>> 8) & 0xff)]! ^
      t[0x100 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
  }
  return c;
}

/** CRC-32C of `bytes[start, end)`. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32cUpdate(0, bytes, start, end);
}
