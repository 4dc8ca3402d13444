/**
 * This machine's raw disk figures, measured exactly as ../shared/anchors/scripts/fsync-append.js
 * and seq-write.js measure them, but in the caller's directory and run, so ratios compare like
 * with like on a shared, noisy machine.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** 1 KiB write + fdatasync per operation, for `seconds`: the rate one-sync-per-append can reach. */
export function rawFsyncAppendsPerSecond(dir: string, seconds: number): number {
  const file = path.join(dir, `fsync-test-${process.pid}.log`);
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(1024, 'a');
  const started = Date.now();
  let ops = 0;
  while (Date.now() - started < seconds * 1000) {
    fs.writeSync(fd, buf);
    fs.fdatasyncSync(fd);
    ops++;
  }
  const elapsedSeconds = (Date.now() - started) / 1000;
  fs.closeSync(fd);
  fs.unlinkSync(file);
  return ops / elapsedSeconds;
}

/** Sequential 1 MiB writes of `mib` MiB, one fsync at the end: MB/s including the fsync. */
export function rawSequentialMBps(dir: string, mib: number): number {
  const file = path.join(dir, `seqwrite-test-${process.pid}.bin`);
  const fd = fs.openSync(file, 'w');
  const buf = randomBytes(1 << 20);
  const started = process.hrtime.bigint();
  for (let i = 0; i < mib; i++) fs.writeSync(fd, buf);
  fs.fsyncSync(fd);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.closeSync(fd);
  fs.unlinkSync(file);
  return (mib * 1048576) / 1e6 / seconds;
}
