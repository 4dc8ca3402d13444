import { FRAME_HEADER_BYTES, checkFrame } from './frame.js';
import { decodeRecord, type DecodedRecord } from './records.js';

export interface ScannedRecord {
  readonly offset: number;
  readonly record: DecodedRecord;
}

/** The first record that did not verify, and whether anything valid comes after it. */
export interface ScanProblem {
  readonly offset: number;
  readonly reason: string;
  /** A checksummed record that does not decode is a bug or a foreign file, never a torn write. */
  readonly checksumValid: boolean;
  readonly validRecordFollows: boolean;
}

export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** End of the last good record: where a torn tail gets cut. */
  readonly validEnd: number;
  readonly problem: ScanProblem | null;
}

/** Reads every record of a whole segment file, verifying all checksums. */
export function scanSegment(buf: Uint8Array): SegmentScan {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const check = checkFrame(buf, offset);
    if (!check.ok) {
      return {
        records,
        validEnd: offset,
        problem: { offset, reason: check.reason, checksumValid: false, validRecordFollows: validFrameAfter(buf, offset + 1) },
      };
    }
    const record = decodeRecord(buf, check.type, check.payloadStart, check.end);
    if (typeof record === 'string') {
      return { records, validEnd: offset, problem: { offset, reason: record, checksumValid: true, validRecordFollows: validFrameAfter(buf, check.end) } };
    }
    records.push({ offset, record });
    offset = check.end;
  }
  return { records, validEnd: offset, problem: null };
}

/**
 * Is there a complete, checksummed record starting anywhere at or after `from`? A torn write
 * leaves only garbage or zeros after the tear; a valid record there means the damage is in the
 * middle of the log. Cheap header checks skip almost every position before any CRC is computed.
 */
function validFrameAfter(buf: Uint8Array, from: number): boolean {
  for (let p = from; p + FRAME_HEADER_BYTES <= buf.length; p++) {
    const type = buf[p + 4]!;
    if (type < 1 || type > 4 || buf[p + 5] !== 0 || buf[p + 6] !== 0 || buf[p + 7] !== 0) continue;
    if (checkFrame(buf, p).ok) return true;
  }
  return false;
}
