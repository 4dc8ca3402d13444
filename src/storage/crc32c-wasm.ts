/**
 * The same slicing-by-8 CRC-32C as crc32c.ts, as a WebAssembly function, for inputs of 256 bytes
 * and more: ~1.4x the JS loop here (no bounds check per table lookup), which matters because
 * checksumming is the WAL's main CPU cost for 255 KiB chunks. The module is assembled below from
 * its instructions (no binary blob, no toolchain); crc32c.test.ts checks it against the bitwise
 * definition.
 *
 * Linear memory: the 8 tables (8 x 256 x i32) at 0..8191, the input copied in at 8192.
 */

export const TABLES_BYTES = 8 * 256 * 4;
/** Inputs are checksummed through wasm memory in slices of this size: its memory stays small. */
const SLICE_BYTES = 1 << 20;

const enum Op {
  block = 0x02,
  loop = 0x03,
  br = 0x0c,
  brIf = 0x0d,
  end = 0x0b,
  localGet = 0x20,
  localSet = 0x21,
  i32Load = 0x28,
  i32Load8U = 0x2d,
  i32Const = 0x41,
  i32GeU = 0x4f,
  i32Add = 0x6a,
  i32And = 0x71,
  i32Xor = 0x73,
  i32Shl = 0x74,
  i32ShrU = 0x76,
}

function leb(n: number, signed: boolean): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n = signed ? n >> 7 : n >>> 7;
    const done = signed ? (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0) : n === 0;
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const get = (local: number): number[] => [Op.localGet, local];
const set = (local: number): number[] => [Op.localSet, local];
const i32 = (n: number): number[] => [Op.i32Const, ...leb(n, true)];
const load = (offset: number): number[] => [Op.i32Load, 2, ...leb(offset, false)];

/** tables[k][(local >>> shift) & 0xff] */
function lookup(local: number, shift: number, table: number): number[] {
  const shifted = shift === 0 ? get(local) : [...get(local), ...i32(shift), Op.i32ShrU];
  const byte = shift === 24 ? shifted : [...shifted, ...i32(255), Op.i32And];
  return [...byte, ...i32(2), Op.i32Shl, ...load(table * 1024)];
}

/** crc(crc, ptr, len) -> crc; locals: 3 c, 4 end, 5 end8, 6 lo, 7 hi. */
function crcBody(): number[] {
  const [crc, p, len, c, end, end8, lo, hi] = [0, 1, 2, 3, 4, 5, 6, 7];
  const eight = [
    lookup(lo, 0, 7),
    lookup(lo, 8, 6),
    lookup(lo, 16, 5),
    lookup(lo, 24, 4),
    lookup(hi, 0, 3),
    lookup(hi, 8, 2),
    lookup(hi, 16, 1),
    lookup(hi, 24, 0),
  ];
  const xorAll = eight.flatMap((l, i) => (i === 0 ? l : [...l, Op.i32Xor]));
  // One line per source line of the algorithm: keep it so.
  // prettier-ignore
  return [
    ...[1, 5, 0x7f], // five i32 locals
    ...get(crc), ...i32(-1), Op.i32Xor, ...set(c),
    ...get(p), ...get(len), Op.i32Add, ...set(end),
    ...get(p), ...get(len), ...i32(-8), Op.i32And, Op.i32Add, ...set(end8),
    Op.block, 0x40, Op.loop, 0x40,
    ...get(p), ...get(end8), Op.i32GeU, Op.brIf, 1,
    ...get(c), ...get(p), ...load(0), Op.i32Xor, ...set(lo),
    ...get(p), ...load(4), ...set(hi),
    ...xorAll, ...set(c),
    ...get(p), ...i32(8), Op.i32Add, ...set(p),
    Op.br, 0, Op.end, Op.end,
    Op.block, 0x40, Op.loop, 0x40,
    ...get(p), ...get(end), Op.i32GeU, Op.brIf, 1,
    ...get(c), ...i32(8), Op.i32ShrU, ...get(c), ...get(p), Op.i32Load8U, 0, 0, Op.i32Xor, ...i32(255), Op.i32And, ...i32(2), Op.i32Shl, ...load(0), Op.i32Xor, ...set(c),
    ...get(p), ...i32(1), Op.i32Add, ...set(p),
    Op.br, 0, Op.end, Op.end,
    ...get(c), ...i32(-1), Op.i32Xor,
    Op.end,
  ];
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length, false), ...content];
}

const name = (s: string): number[] => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];

/**
 * The module's bytes. By default it has its own memory; with `sharedPages`, it imports a shared
 * memory of exactly that many pages as env.memory instead (the checksum worker, crc32c-worker.ts,
 * checksums in place what the main thread copied there).
 */
export function moduleBytes(sharedPages?: number): Uint8Array {
  const body = crcBody();
  const memory =
    sharedPages === undefined
      ? section(5, [1, 0x00, 1]) // one memory, at least one page
      : section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x03, ...leb(sharedPages, false), ...leb(sharedPages, false)]); // shared, min = max
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]), // type: (i32, i32, i32) -> i32
    ...(sharedPages === undefined ? [] : memory),
    ...section(3, [1, 0]), // one function of type 0
    ...(sharedPages === undefined ? memory : []),
    ...(sharedPages === undefined ? section(7, [2, ...name('crc'), 0x00, 0, ...name('memory'), 0x02, 0]) : section(7, [1, ...name('crc'), 0x00, 0])),
    ...section(10, [1, ...leb(body.length, false), ...body]),
  ]);
}

export type CrcKernel = (crc: number, bytes: Uint8Array, start: number, end: number) => number;

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no DOM, which is where its types live). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** Builds the wasm kernel over `tables`; null where WebAssembly is unavailable (callers fall back to JS). */
export function wasmCrcKernel(tables: Int32Array): CrcKernel | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  const instance = new wasm.Instance(new wasm.Module(moduleBytes()));
  const memory = instance.exports.memory as WasmMemory;
  const crc = instance.exports.crc as (crc: number, ptr: number, len: number) => number;
  memory.grow(Math.ceil((TABLES_BYTES + SLICE_BYTES) / 65536));
  new Int32Array(memory.buffer, 0, tables.length).set(tables);
  const input = new Uint8Array(memory.buffer, TABLES_BYTES, SLICE_BYTES);
  return (c, bytes, start, end) => {
    for (let at = start; at < end; at += SLICE_BYTES) {
      const n = Math.min(SLICE_BYTES, end - at);
      input.set(bytes.subarray(at, at + n));
      c = crc(c, TABLES_BYTES, n) >>> 0;
    }
    return c;
  };
}
