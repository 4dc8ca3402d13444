import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ConfState, Snapshot, SnapshotMetadata } from '../raft/index.js';
import { crc32c, crc32cUpdate } from './crc32c.js';
import { snapshotCorrupt } from './errors.js';
import { ensureDir, fsyncDir, writeFileAtomic } from './fs-util.js';
import { readU53, writeU53 } from './wal/entry-codec.js';

/*
 * A snapshot file, snap/<index>-<term>.snap (both zero-padded so names sort by index):
 *   "LSNP", u32 version 1, u53 index, u53 term, u32 conf state JSON length, u32 zero,
 *   u53 data length, the conf state JSON, the data, then u32 CRC-32C of everything before it.
 */

const MAGIC = 0x504e534c; // "LSNP" read as a little-endian u32
const VERSION = 1;
const HEADER_BYTES = 40;
const NAME = /^(\d{16})-(\d{16})\.snap$/;

export function snapshotDir(dataDir: string): string {
  return path.join(dataDir, 'snap');
}

export function snapshotPath(dataDir: string, meta: Pick<SnapshotMetadata, 'index' | 'term'>): string {
  const pad = (n: number): string => String(n).padStart(16, '0');
  return path.join(snapshotDir(dataDir), `${pad(meta.index)}-${pad(meta.term)}.snap`);
}

/** Writes the snapshot atomically (temp, fsync, rename, directory fsync). */
export async function writeSnapshotFile(dataDir: string, snap: Snapshot): Promise<void> {
  await ensureDir(snapshotDir(dataDir));
  const conf = new TextEncoder().encode(JSON.stringify(snap.metadata.confState));
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  writeU53(view, 8, snap.metadata.index);
  writeU53(view, 16, snap.metadata.term);
  view.setUint32(24, conf.length, true);
  writeU53(view, 32, snap.data.length);
  const body = [header, conf, snap.data];
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(
    0,
    body.reduce((c, part) => crc32cUpdate(c, part), 0),
    true,
  );
  await writeFileAtomic(snapshotPath(dataDir, snap.metadata), [...body, crc], dataDir);
}

/** Loads and verifies the snapshot the log's marker names; anything off is SNAPSHOT_CORRUPT. */
export async function readSnapshotFile(dataDir: string, meta: SnapshotMetadata): Promise<Snapshot> {
  const file = snapshotPath(dataDir, meta);
  let buf: Uint8Array;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    throw snapshotCorrupt(file, `cannot be read (${(e as Error).message})`, dataDir);
  }
  const bad = (what: string): never => {
    throw snapshotCorrupt(file, what, dataDir);
  };
  if (buf.length < HEADER_BYTES + 4) bad(`only ${buf.length} bytes long`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  if (view.getUint32(buf.length - 4, true) !== crc32c(buf, 0, buf.length - 4)) bad('checksum mismatch');
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) bad('not a version-1 snapshot file');
  if (readU53(view, 8) !== meta.index || readU53(view, 16) !== meta.term) bad(`holds ${readU53(view, 8)}/${readU53(view, 16)}, not ${meta.index}/${meta.term}`);
  const confBytes = view.getUint32(24, true);
  const dataBytes = readU53(view, 32);
  const confStart = HEADER_BYTES;
  if (confStart + confBytes + dataBytes + 4 !== buf.length) bad('section lengths do not add up to the file size');
  const confState = parseConfState(buf.subarray(confStart, confStart + confBytes));
  if (confState === null || !sameConfState(confState, meta.confState)) bad('its membership differs from the one the log recorded');
  return { metadata: meta, data: buf.subarray(confStart + confBytes, confStart + confBytes + dataBytes) };
}

/**
 * Keeps the current snapshot and the newest one before it (a fallback for a human); removes the
 * rest, including files newer than the current one (written, but the log never pointed at them).
 * Temp files are swept only at open: at run time one may be a snapshot being written.
 */
export async function pruneSnapshotFiles(dataDir: string, current: SnapshotMetadata, opts: { sweepTempFiles: boolean }): Promise<void> {
  const dir = snapshotDir(dataDir);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const currentName = path.basename(snapshotPath(dataDir, current));
  const older = names.filter((n) => NAME.test(n) && n < currentName).sort();
  const keep = new Set([currentName, older.at(-1)]);
  const doomed = names.filter((n) => (NAME.test(n) || (opts.sweepTempFiles && n.endsWith('.snap.tmp'))) && !keep.has(n));
  for (const name of doomed) await fsp.rm(path.join(dir, name), { force: true });
  if (doomed.length > 0) await fsyncDir(dir);
}

function parseConfState(bytes: Uint8Array): ConfState | null {
  try {
    const c = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ConfState>;
    return Array.isArray(c.voters) && Array.isArray(c.learners) ? (c as ConfState) : null;
  } catch {
    return null;
  }
}

function sameConfState(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}
