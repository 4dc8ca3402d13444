import { describe, expect, it } from 'vitest';
import { carve } from './slab.js';

describe('slab carving', () => {
  it('hands out zero-filled, non-overlapping arrays whose view and base address them', () => {
    const carved = Array.from({ length: 2000 }, (_, i) => carve(1 + (i % 300)));
    carved.forEach((c, i) => {
      expect(c.bytes.every((b) => b === 0)).toBe(true);
      c.view.setUint8(c.base, i & 0xff);
      c.view.setUint8(c.base + c.bytes.length - 1, i & 0xff);
    });
    // Had two arrays overlapped, a later write would have clobbered an earlier one's bytes.
    carved.forEach((c, i) => {
      expect(c.bytes[0]).toBe(i & 0xff);
      expect(c.bytes[c.bytes.length - 1]).toBe(i & 0xff);
      expect(c.bytes.byteOffset % 8).toBe(0);
    });
  });

  it('gives large requests their own buffer', () => {
    const big = carve(100_000);
    expect(big.bytes.length).toBe(100_000);
    expect(big.base).toBe(0);
    expect(big.bytes.buffer.byteLength).toBe(100_000);
  });
});
