import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Proves the purity fence in eslint.config.js fires: a rule that silently matches nothing would
// let a clock or a socket into src/raft without anyone noticing.

const root = fileURLToPath(new URL('../../', import.meta.url));
const PURITY = 'src/raft is a pure deterministic state machine';

const forbidden: Record<string, string> = {
  'node: import': `import { readFileSync } from 'node:fs';\nexport const f = readFileSync;`,
  'fs import': `import * as fs from 'fs';\nexport const f = fs;`,
  'fs/promises import': `import { readFile } from 'fs/promises';\nexport const f = readFile;`,
  'net import': `import { connect } from 'net';\nexport const f = connect;`,
  'os import': `import { cpus } from 'os';\nexport const f = cpus;`,
  'crypto import': `import { createHash } from 'crypto';\nexport const f = createHash;`,
  'path import': `import { join } from 'path';\nexport const f = join;`,
  'child_process import': `import { spawn } from 'child_process';\nexport const f = spawn;`,
  'worker_threads import': `import { Worker } from 'worker_threads';\nexport const f = Worker;`,
  'electron import': `import { app } from 'electron';\nexport const f = app;`,
  '@grpc import': `import * as grpc from '@grpc/grpc-js';\nexport const f = grpc;`,
  'nedb import': `import Datastore from 'nedb-promises';\nexport const f = Datastore;`,
  're-export': `export { readFile } from 'node:fs/promises';`,
  'dynamic import': `export const f = () => import('fs');`,
  'TS import-require': `import fs = require('fs');\nexport const f = fs;`,
  'Date.now': `export const now = () => Date.now();`,
  'new Date': `export const now = () => new Date();`,
  setTimeout: `export const later = (f: () => void) => setTimeout(f, 10);`,
  setInterval: `export const every = (f: () => void) => setInterval(f, 10);`,
  setImmediate: `export const soon = (f: () => void) => setImmediate(f);`,
  queueMicrotask: `export const soon = (f: () => void) => queueMicrotask(f);`,
  'Math.random': `export const pick = (n: number) => Math.floor(Math.random() * n);`,
  'destructured Math.random': `const { random } = Math;\nexport const pick = () => random();`,
  'performance.now': `export const now = () => performance.now();`,
  process: `export const env = () => process.env['X'];`,
  Buffer: `export const bytes = (s: string) => Buffer.from(s);`,
  require: `export const load = () => require('fs');`,
  'globalThis escape hatch': `export const now = () => (globalThis as { Date: { now(): number } }).Date.now();`,
};

const clean = `import type { Message } from './types.js';

/** Deterministic: everything comes in as arguments, including the random source. */
export function jitter(base: number, randomInt: (n: number) => number): number {
  return base + randomInt(base);
}

export function count(msgs: readonly Message[]): number {
  return msgs.length;
}
`;

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: `${root}eslint.config.js` });
});

async function purityErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  expect(result).toBeDefined();
  // A parse error would also be an "error"; only messages from the fence count as proof.
  expect(result!.messages.filter((m) => m.fatal)).toEqual([]);
  return result!.messages.filter((m) => m.severity === 2 && m.message.includes(PURITY)).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('src/raft purity lint', () => {
  it.each(Object.entries(forbidden))('rejects %s in src/raft', async (_name, code) => {
    expect(await purityErrors(code, 'src/raft/fake.ts')).not.toEqual([]);
  });

  it('accepts a clean snippet in src/raft', async () => {
    const [result] = await eslint.lintText(clean, { filePath: 'src/raft/fake.ts' });
    expect(result!.messages).toEqual([]);
  });

  // Tests drive the core from outside and may use clocks, files and the like.
  const testPaths = ['src/raft/test/fake.ts', 'src/raft/fake.test.ts'];
  it.each(testPaths)('accepts the clean snippet in %s', async (filePath) => {
    const [result] = await eslint.lintText(clean, { filePath });
    expect(result!.messages).toEqual([]);
  });

  it.each(testPaths.flatMap((path) => Object.entries(forbidden).map(([name, code]) => [path, name, code])))(
    'does not fence %s: %s',
    async (filePath, _name, code) => {
      expect(await purityErrors(code!, filePath!)).toEqual([]);
    },
  );

  it('does not fence code outside src/raft', async () => {
    expect(await purityErrors(forbidden['Date.now']!, 'src/main/fake.ts')).toEqual([]);
  });
});
