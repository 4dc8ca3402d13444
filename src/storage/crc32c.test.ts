import { describe, expect, it } from 'vitest';
import { crc32c, crc32cUpdate, crc32cUpdatePortable } from './crc32c.js';

/** The textbook bit-at-a-time definition, to check the table-driven code against. */
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const filled = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

describe('crc32c', () => {
  it('matches the published check value and the RFC 3720 (iSCSI) B.4 vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(filled(32, () => 0))).toBe(0x8a9136aa);
    expect(crc32c(filled(32, () => 0xff))).toBe(0x62a8ab43);
    expect(crc32c(filled(32, (i) => i))).toBe(0x46dd794e);
    expect(crc32c(filled(32, (i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('agrees with the bitwise definition at every alignment and length up to 64 bytes', () => {
    const backing = filled(200, (i) => (i * 131 + 7) & 0xff);
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 64; length++) {
        const view = backing.subarray(offset, offset + length);
        expect(crc32c(view), `offset ${offset} length ${length}`).toBe(crc32cBitwise(view));
      }
    }
  });

  it('checksums a sub-range and chains across pieces', () => {
    const data = filled(10_000, (i) => (i * 7919) & 0xff);
    const whole = crc32c(data);
    expect(crc32c(data, 100, 5000)).toBe(crc32cBitwise(data.subarray(100, 5000)));
    for (const cut of [0, 1, 3, 4, 7, 8, 9, 4999, 10_000]) {
      expect(crc32cUpdate(crc32c(data, 0, cut), data, cut), `cut at ${cut}`).toBe(whole);
    }
  });

  it('the WebAssembly path (large inputs) agrees with the bitwise definition and the JS loop', () => {
    const backing = filled(3 * 1024 * 1024 + 16, (i) => (i * 2654435761) >>> 24);
    for (const [offset, length] of [
      [0, 256],
      [2, 1023],
      [0, 4096],
      [1, 4097],
      [3, 70_001],
      [5, 255 * 1024],
      [7, 65_536],
    ] as const) {
      const view = backing.subarray(offset, offset + length);
      expect(crc32c(view), `offset ${offset} length ${length}`).toBe(crc32cBitwise(view));
    }
    // Past the 1 MiB slice the kernel copies through, and chained from a non-zero CRC.
    const big = backing.subarray(3, 3 * 1024 * 1024 + 3);
    expect(crc32c(big)).toBe(crc32cUpdatePortable(0, big));
    expect(crc32cUpdate(crc32c(big, 0, 10), big, 10)).toBe(crc32cUpdatePortable(0, big));
  });

  it('detects every single-bit flip in a 1 KiB buffer', () => {
    const data = filled(1024, (i) => (i * 13) & 0xff);
    const good = crc32c(data);
    for (let bit = 0; bit < data.length * 8; bit += 7) {
      const copy = data.slice();
      copy[bit >> 3]! ^= 1 << (bit & 7);
      expect(crc32c(copy)).not.toBe(good);
    }
  });
});
