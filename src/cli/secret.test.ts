import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSecret } from '../trust/index.js';

const run = promisify(execFile);
const larder = resolve(import.meta.dirname, '../../bin/larder.mjs');
const root = mkdtempSync(join(tmpdir(), 'larder-secret-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('larder secret', () => {
  it('new prints a valid secret; show prints the one a node keeps, and says so when there is none', async () => {
    const { stdout } = await run(process.execPath, [larder, 'secret', 'new']);
    const secret = stdout.trim();
    expect(() => parseSecret(secret)).not.toThrow();

    // A node keeps the secret it was started with: show prints that one.
    const dataDir = join(root, 'n1');
    const node = execFile(process.execPath, [
      larder,
      'start',
      '--node-id',
      'n1',
      '--data-dir',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      '--discovery',
      'off',
      '--cluster-secret',
      secret,
    ]);
    await new Promise<void>((res) => node.stderr?.on('data', (d: Buffer) => d.toString().includes('node started') && res()));
    node.kill('SIGKILL');
    expect((await run(process.execPath, [larder, 'secret', 'show', '--data-dir', dataDir])).stdout.trim()).toBe(secret);

    const missing = await run(process.execPath, [larder, 'secret', 'show', '--data-dir', join(root, 'nothing')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toMatch(/holds no cluster secret/);
  });
});
