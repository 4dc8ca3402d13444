import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NodeStartError } from './startup.js';

/** The lock file inside a data directory: who holds it. */
export const lockFileName = 'LOCK';

interface Owner {
  readonly pid: number;
  /** The owner's start time (Linux /proc), so a recycled pid is not mistaken for the owner. */
  readonly startTicks: string | null;
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** Data directories locked by this process (a failed start in this process leaves a stale file). */
const heldHere = new Set<string>();

/**
 * One node per data directory. Two would interleave writes to one WAL and one catalog and ruin
 * both, so a second node refuses to start and says which process holds the directory. A lock
 * left by a process that died (kill -9, power loss) is stale and taken over at once.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const key = resolve(dataDir);
  if (heldHere.has(key)) throw inUse(dataDir, process.pid);
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, lockFileName);
  const me: Owner = { pid: process.pid, startTicks: startTicksOf(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      heldHere.add(key);
      return { release: () => release(key, path) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = await readOwner(path);
    if (owner && owner.pid !== process.pid && isRunning(owner)) throw inUse(dataDir, owner.pid);
    // Stale: its process is gone (or it was this process, in a start that failed). Two nodes
    // racing for one stale lock both get here; the 'wx' create above lets only one of them win.
    await rm(path, { force: true });
  }
  throw new NodeStartError(`could not lock ${dataDir}: its ${lockFileName} file keeps reappearing; is another node starting on it?`);
}

async function release(key: string, path: string): Promise<void> {
  if (!heldHere.delete(key)) return;
  await rm(path, { force: true });
}

function inUse(dataDir: string, pid: number): NodeStartError {
  return new NodeStartError(
    `data directory ${dataDir} is in use by another running node (process ${pid}); ` + 'stop that node first, or give this one its own --data-dir',
  );
}

async function readOwner(path: string): Promise<Owner | null> {
  try {
    const o = JSON.parse(await readFile(path, 'utf8')) as Partial<Owner>;
    return Number.isInteger(o.pid) && (o.pid as number) > 0 ? { pid: o.pid as number, startTicks: o.startTicks ?? null } : null;
  } catch {
    return null; // Torn or foreign: a crash mid-write; nobody can be holding it.
  }
}

function isRunning(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicksOf(owner.pid);
  return owner.startTicks === null || now === null || now === owner.startTicks;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null off Linux. */
function startTicksOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
