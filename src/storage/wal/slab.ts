/**
 * Small byte arrays carved out of shared 64 KiB slabs.
 *
 * Every append needs a few hundred bytes of headers. `new Uint8Array(200)` costs ~1.7 us in V8
 * (arrays over 64 bytes get an off-heap, zero-filled backing store), more than checksumming the
 * 1 KiB entry it frames; a view into a slab costs ~0.1 us. One DataView per slab serves every
 * array carved from it (`base` is where the array starts in it). A slab is freed by the GC once no
 * array carved from it is referenced, i.e. once its records are written.
 */
const SLAB_BYTES = 64 * 1024;
/** Larger requests get their own buffer: they are rare and would waste most of a slab. */
const CARVE_BYTES_MAX = SLAB_BYTES / 8;

export interface Carved {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Offset of `bytes[0]` in `view`. */
  readonly base: number;
}

let slab = new ArrayBuffer(SLAB_BYTES);
let slabView = new DataView(slab);
let used = 0;

/** A zero-filled array of `length` bytes with a DataView to write it through. */
export function carve(length: number): Carved {
  if (length > CARVE_BYTES_MAX) {
    const bytes = new Uint8Array(length);
    return { bytes, view: new DataView(bytes.buffer), base: 0 };
  }
  // 8-byte alignment keeps entry payload offsets word-aligned for the CRC's word loop.
  const aligned = (length + 7) & ~7;
  if (used + aligned > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabView = new DataView(slab);
    used = 0;
  }
  const carved = { bytes: new Uint8Array(slab, used, length), view: slabView, base: used };
  used += aligned;
  return carved;
}
