import { InvariantError, type ConfChange, type Entry } from '../../raft/index.js';

/*
 * One entry's bytes on disk (its "body"), little-endian:
 *   u8 kind (1 normal, 2 confChange), u8[3] zero, u32 index lo, u32 index hi, u32 term lo, u32 term hi,
 *   then the payload: a normal entry's data, or a confChange's u8 change type and UTF-8 node id.
 * The 20-byte header keeps the payload 4-byte aligned, which the CRC's word loop likes.
 */

export const ENTRY_HEADER_BYTES = 20;
const KIND_NORMAL = 1;
const KIND_CONF_CHANGE = 2;
const changeTypes = ['addVoter', 'addLearner', 'removeNode'] as const;
const TWO_32 = 0x1_0000_0000;

export function writeU53(view: DataView, offset: number, value: number): void {
  // On every append's path: a plain check, no closure for the message.
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new InvariantError(`not a non-negative safe integer: ${value}`);
  view.setUint32(offset, value % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

export function readU53(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * TWO_32;
}

/** Writes an entry's 20-byte header at `offset` of `view`. */
export function writeEntryHeader(view: DataView, offset: number, e: Entry): void {
  view.setUint8(offset, e.kind === 'normal' ? KIND_NORMAL : KIND_CONF_CHANGE);
  writeU53(view, offset + 4, e.index);
  writeU53(view, offset + 12, e.term);
}

/** What follows the header: a normal entry's data (the caller's bytes, not copied) or the encoded change. */
export function entryPayload(e: Entry): Uint8Array {
  if (e.kind === 'normal') return e.data;
  const node = new TextEncoder().encode(e.change.node);
  const change = new Uint8Array(1 + node.length);
  change[0] = changeTypes.indexOf(e.change.type);
  change.set(node, 1);
  return change;
}

export interface EntryBodyHeader {
  readonly kind: Entry['kind'];
  readonly index: number;
  readonly term: number;
}

/** Returns null when the header is not one this code writes (caller reports corruption). */
export function decodeEntryHeader(body: Uint8Array): EntryBodyHeader | null {
  if (body.length < ENTRY_HEADER_BYTES) return null;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const kindByte = view.getUint8(0);
  if (kindByte !== KIND_NORMAL && kindByte !== KIND_CONF_CHANGE) return null;
  if (view.getUint8(1) !== 0 || view.getUint16(2, true) !== 0) return null;
  return { kind: kindByte === KIND_NORMAL ? 'normal' : 'confChange', index: readU53(view, 4), term: readU53(view, 12) };
}

/** Decodes a body whose checksum was already verified. */
export function decodeEntryBody(body: Uint8Array): Entry | null {
  const h = decodeEntryHeader(body);
  if (h === null) return null;
  const payload = body.subarray(ENTRY_HEADER_BYTES);
  if (h.kind === 'normal') return { kind: 'normal', index: h.index, term: h.term, data: payload };
  const type = changeTypes[payload[0] ?? 255];
  if (type === undefined) return null;
  const change: ConfChange = { type, node: new TextDecoder().decode(payload.subarray(1)) };
  return { kind: 'confChange', index: h.index, term: h.term, change };
}
