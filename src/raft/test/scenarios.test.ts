import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCommand } from './datadriven/commands.js';
import { parse, render, type TestCase } from './datadriven/datadriven.js';
import { Env } from './datadriven/env.js';

/*
 * Scenario tests in the style of etcd-io/raft's datadriven tests: each file in ../testdata is a
 * script of commands with their expected transcripts (see datadriven/commands.ts for the
 * commands). REWRITE=1 rewrites every file with the actual transcripts; REWRITE=name,other
 * rewrites only files whose name contains one of those words. Review the diff before keeping it.
 */

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const rewrite = process.env['REWRITE'] ?? '';

function shouldRewrite(file: string): boolean {
  if (rewrite === '' || rewrite === '0') return false;
  if (rewrite === '1' || rewrite === 'all') return true;
  return rewrite.split(',').some((w) => w !== '' && file.includes(w));
}

function runScenario(file: string): void {
  const path = join(dir, file);
  const chunks = parse(readFileSync(path, 'utf8'), file);
  const env = new Env();
  const outputs = new Map<TestCase, string>();
  const updating = shouldRewrite(file);
  for (const c of chunks) {
    if (c.kind !== 'case') continue;
    const actual = runCommand(env, c.tc);
    outputs.set(c.tc, actual);
    if (!updating) expect(actual, `${path}:${c.tc.line}: ${c.tc.cmdLine}`).toBe(c.tc.expected);
  }
  if (updating) writeFileSync(path, render(chunks, outputs));
}

describe('raft scenarios', () => {
  it('has scenario files', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) it(file, () => runScenario(file));
});
