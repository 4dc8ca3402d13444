import { crc32c, crc32cUpdate } from '../crc32c.js';

/*
 * A record on disk ("frame"), little-endian:
 *   u32 payload length, u8 type, u8 zero, u16 zero, u32 CRC-32C, then the payload.
 * The CRC covers the first 8 header bytes and the payload, except for entries records: there it
 * covers the header and the table of contents, and the table holds one CRC per entry body. Every
 * byte is still checksummed exactly once (CRC is the WAL's main CPU cost for 255 KiB chunks), and
 * one entry can be read back and verified without reading its whole batch.
 *
 * Entries payload: u32 count, u32 zero, count x (u32 body length, u32 body CRC), then the bodies.
 */

export const FRAME_HEADER_BYTES = 12;
export const TOC_HEADER_BYTES = 8;
export const TOC_ITEM_BYTES = 8;
/** Plausibility bound when scanning: a length beyond it is garbage, not a record. */
export const RECORD_PAYLOAD_BYTES_MAX = 1 << 30;

export const RecordType = { segmentStart: 1, hardState: 2, logMarker: 3, entries: 4 } as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

const isRecordType = (t: number): t is RecordTypeCode => t >= 1 && t <= 4;

function frameHeader(type: RecordTypeCode, payloadBytes: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, payloadBytes, true);
  view.setUint8(4, type);
  return header;
}

function setFrameCrc(header: Uint8Array, crc: number): void {
  new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).setUint32(8, crc, true);
}

/** A plain record: header + payload, CRC over both. */
export function encodeFrame(type: RecordTypeCode, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out.set(frameHeader(type, payload.length));
  out.set(payload, FRAME_HEADER_BYTES);
  setFrameCrc(out, crc32cUpdate(crc32c(out, 0, 8), payload));
  return out;
}

export type FrameCheck =
  | { readonly ok: true; readonly type: RecordTypeCode; readonly payloadStart: number; readonly end: number }
  | { readonly ok: false; readonly reason: string; readonly truncated: boolean };

/** Verifies the frame at `offset` of `buf` (a whole segment file) completely, CRCs included. */
export function checkFrame(buf: Uint8Array, offset: number): FrameCheck {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { ok: false, reason: 'partial record header', truncated: true };
  const view = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_BYTES);
  const payloadBytes = view.getUint32(0, true);
  const type = view.getUint8(4);
  if (!isRecordType(type) || view.getUint8(5) !== 0 || view.getUint16(6, true) !== 0) return { ok: false, reason: 'bad record header', truncated: false };
  if (payloadBytes > RECORD_PAYLOAD_BYTES_MAX) return { ok: false, reason: `implausible record length ${payloadBytes}`, truncated: false };
  const payloadStart = offset + FRAME_HEADER_BYTES;
  const end = payloadStart + payloadBytes;
  if (end > buf.length) return { ok: false, reason: `record of ${payloadBytes} bytes runs past the end of the file`, truncated: true };
  const storedCrc = view.getUint32(8, true);
  const reason = type === RecordType.entries ? checkEntriesPayload(buf, offset, payloadStart, end, storedCrc) : checkPlainPayload(buf, offset, end, storedCrc);
  return reason === null ? { ok: true, type, payloadStart, end } : { ok: false, reason, truncated: false };
}

function checkPlainPayload(buf: Uint8Array, offset: number, end: number, storedCrc: number): string | null {
  const crc = crc32cUpdate(crc32c(buf, offset, offset + 8), buf, offset + FRAME_HEADER_BYTES, end);
  return crc === storedCrc ? null : 'record checksum mismatch';
}

function checkEntriesPayload(buf: Uint8Array, offset: number, payloadStart: number, end: number, storedCrc: number): string | null {
  if (end - payloadStart < TOC_HEADER_BYTES) return 'entries record too short for its table of contents';
  const view = new DataView(buf.buffer, buf.byteOffset + payloadStart, end - payloadStart);
  const count = view.getUint32(0, true);
  const tocBytes = TOC_HEADER_BYTES + count * TOC_ITEM_BYTES;
  if (view.getUint32(4, true) !== 0 || tocBytes > end - payloadStart) return 'bad entries table of contents';
  const tocCrc = crc32cUpdate(crc32c(buf, offset, offset + 8), buf, payloadStart, payloadStart + tocBytes);
  if (tocCrc !== storedCrc) return 'entries table of contents checksum mismatch';
  let bodyStart = payloadStart + tocBytes;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(TOC_HEADER_BYTES + i * TOC_ITEM_BYTES, true);
    const crc = view.getUint32(TOC_HEADER_BYTES + i * TOC_ITEM_BYTES + 4, true);
    if (bodyStart + length > end) return `entry ${i} of the batch runs past its record`;
    if (crc32c(buf, bodyStart, bodyStart + length) !== crc) return `entry ${i} of the batch fails its checksum`;
    bodyStart += length;
  }
  return bodyStart === end ? null : 'entries record length does not match its table of contents';
}
