import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir, lockFileName } from './data-dir-lock.js';
import { TestCluster } from './test/cluster-harness.js';
import { exited } from './test/membership-helpers.js';

let dir: string | undefined;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function freshDir(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'larder-lock-'));
  return join(dir, 'data');
}

/** A process that has exited: its pid is free (and, for this test's few milliseconds, not reused). */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => p.once('exit', r));
  return p.pid!;
}

describe('the data-dir lock', () => {
  it('lets one holder at a time have a directory, and frees it on release', async () => {
    const data = await freshDir();
    const lock = await lockDataDir(data);
    await expect(lockDataDir(data)).rejects.toThrow(`data directory ${data} is in use by another running node (process ${process.pid})`);
    await lock.release();
    await expect(readFile(join(data, lockFileName))).rejects.toThrow(/ENOENT/);
    const again = await lockDataDir(data);
    await again.release();
  });

  it('refuses a directory held by another live process, naming it', async () => {
    const data = await freshDir();
    const holder = spawn('sleep', ['30']);
    try {
      await lockDataDir(data).then((l) => l.release()); // creates the directory
      await writeFile(join(data, lockFileName), JSON.stringify({ pid: holder.pid, startTicks: null }));
      await expect(lockDataDir(data)).rejects.toThrow(`(process ${holder.pid}); stop that node first, or give this one its own --data-dir`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a lock whose process died, one whose pid was reused, and a torn lock file', async () => {
    const data = await freshDir();
    await lockDataDir(data).then((l) => l.release());
    const stale = [
      JSON.stringify({ pid: await deadPid(), startTicks: null }),
      JSON.stringify({ pid: process.ppid, startTicks: '1' }), // a live pid that started at another time
      '{"pid": 12', // a crash mid-write
    ];
    for (const text of stale) {
      await writeFile(join(data, lockFileName), text);
      const lock = await lockDataDir(data);
      expect(JSON.parse(await readFile(join(data, lockFileName), 'utf8'))).toMatchObject({ pid: process.pid });
      await lock.release();
    }
  });
});

describe('a second node on the same data directory', () => {
  it('exits non-zero with an error naming the running node, which goes on serving', async () => {
    cluster = await TestCluster.start(1);
    const first = await cluster.waitForLeader();
    const twin = { ...(await cluster.define('n1', 'join')), dataDir: first.dataDir };
    cluster.nodes[cluster.nodes.length - 1] = twin; // so the cluster's stop() ends it too
    cluster.launch(twin);
    expect(await exited(twin)).not.toBe(0);
    expect(twin.log.join('\n')).toContain(`is in use by another running node (process ${first.proc!.pid})`);
    expect((await cluster.info(first))?.role).toBe('leader');
  });
});
