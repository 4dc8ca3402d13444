import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseCommand, render, type TestCase } from './datadriven.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'testdata');

describe('datadriven format', () => {
  it('renders every scenario file back byte for byte (a rewrite only touches outputs)', () => {
    for (const f of readdirSync(testdata).filter((n) => n.endsWith('.txt'))) {
      const text = readFileSync(join(testdata, f), 'utf8');
      expect(render(parse(text, f), new Map()), f).toBe(text);
    }
  });

  it('fences outputs that hold blank lines, and reads them back', () => {
    const chunks = parse('# prose\n\ncmd a\n----\nold\n\nnext\n----\n');
    const first = chunks.find((c): c is { kind: 'case'; tc: TestCase } => c.kind === 'case');
    expect(first?.tc.expected).toBe('old');
    const text = render(chunks, new Map([[first!.tc, 'x\n\ny']]));
    expect(text).toBe('# prose\n\ncmd a\n----\n----\nx\n\ny\n----\n----\n\nnext\n----\n');
    const again = parse(text).find((c): c is { kind: 'case'; tc: TestCase } => c.kind === 'case');
    expect(again?.tc.expected).toBe('x\n\ny');
  });

  it('parses bare, keyed, list and quoted arguments', () => {
    const { cmd, args } = parseCommand('add-nodes 3 voters=(1, 2,3) learners=() seed=7 "two words"', 't');
    expect(cmd).toBe('add-nodes');
    expect(args).toEqual([
      { key: '3', vals: [], bare: true },
      { key: 'voters', vals: ['1', '2', '3'], bare: false },
      { key: 'learners', vals: [], bare: false },
      { key: 'seed', vals: ['7'], bare: false },
      { key: 'two words', vals: [], bare: true },
    ]);
  });
});
