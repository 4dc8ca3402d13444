/**
 * Snapshot files: any bytes (the state machine's snapshot, or the storage layer's Raft snapshot
 * wrapping it) framed with a length and a SHA-256, written atomically, verified on every read.
 *
 *   offset 0   8 bytes  magic "LARDSNPF"
 *   offset 8   u32 BE   frame version (1)
 *   offset 12  u32 BE   reserved (0)
 *   offset 16  u64 BE   payload length
 *   offset 24  32 bytes SHA-256 of the payload
 *   offset 56  payload
 */
import { readFile } from 'node:fs/promises';
import { SnapshotCorruptError, SnapshotUnsupportedError } from './errors.js';
import { isNotFound, writeFileAtomic } from './fs-atomic.js';
import { bytesEqual, sha256Bytes } from './hash.js';

const MAGIC = Buffer.from('LARDSNPF', 'latin1');
const FRAME_VERSION = 1;
const HEADER_BYTES = 56;

export async function writeSnapshotFile(path: string, payload: Uint8Array, options: { fsync?: boolean } = {}): Promise<void> {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(FRAME_VERSION, 8);
  header.writeBigUInt64BE(BigInt(payload.length), 16);
  header.set(sha256Bytes(payload), 24);
  await writeFileAtomic(path, [header, payload], options);
}

/** The verified payload, or null if there is no file. Throws SnapshotCorruptError naming the file. */
export async function readSnapshotFile(path: string): Promise<Uint8Array | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const where = `file ${path}`;
  if (buf.length < HEADER_BYTES) throw new SnapshotCorruptError(where, `${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new SnapshotCorruptError(where, 'bad magic: not a Larder snapshot file');
  const version = buf.readUInt32BE(8);
  if (version > FRAME_VERSION) throw new SnapshotUnsupportedError(where, version, FRAME_VERSION);
  if (version === 0 || buf.readUInt32BE(12) !== 0) throw new SnapshotCorruptError(where, 'bad frame version or reserved bytes');
  const length = buf.readBigUInt64BE(16);
  if (length !== BigInt(buf.length - HEADER_BYTES))
    throw new SnapshotCorruptError(where, `header says ${length} payload bytes, found ${buf.length - HEADER_BYTES} (truncated or extended)`);
  const payload = buf.subarray(HEADER_BYTES);
  if (!bytesEqual(sha256Bytes(payload), buf.subarray(24, HEADER_BYTES)))
    throw new SnapshotCorruptError(where, 'SHA-256 checksum mismatch: the file was altered');
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
}
