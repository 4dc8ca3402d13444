/**
 * A tiny reader/writer for datadriven test files, in the format of cockroachdb/datadriven (used
 * by etcd-io/raft's testdata):
 *
 *   # prose, kept verbatim
 *   command arg1 key=val key=(a,b)
 *   optional input lines
 *   ----
 *   expected output, up to the next blank line
 *
 * Output that itself holds blank lines is fenced with a doubled separator (`----` twice before,
 * `----` twice after), as datadriven does. Parsing then rendering with the expected outputs
 * gives back the file byte for byte, so a rewrite only ever touches outputs.
 */

export interface Arg {
  readonly key: string;
  readonly vals: readonly string[];
  /** True for an argument without `=` (an id, a payload, a keyword). */
  readonly bare: boolean;
}

export interface TestCase {
  /** 1-based line of the command, for error messages. */
  readonly line: number;
  readonly cmdLine: string;
  readonly cmd: string;
  readonly args: readonly Arg[];
  readonly input: readonly string[];
  readonly expected: string;
}

export type Chunk = { readonly kind: 'text'; readonly lines: readonly string[] } | { readonly kind: 'case'; readonly tc: TestCase };

const SEP = '----';

export function parse(text: string, file = '<input>'): Chunk[] {
  const lines = text.split('\n');
  const chunks: Chunk[] = [];
  let prose: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      prose.push(line);
      i++;
      continue;
    }
    if (prose.length > 0) chunks.push({ kind: 'text', lines: prose });
    prose = [];
    const [tc, next] = parseCase(lines, i, file);
    chunks.push({ kind: 'case', tc });
    i = next;
  }
  if (prose.length > 0) chunks.push({ kind: 'text', lines: prose });
  return chunks;
}

/** Parses the case starting at lines[start]; returns it and the index of the line after it. */
function parseCase(lines: readonly string[], start: number, file: string): [TestCase, number] {
  const cmdLine = lines[start]!;
  let i = start + 1;
  const input: string[] = [];
  while (i < lines.length && lines[i] !== SEP) input.push(lines[i++]!);
  if (i >= lines.length) throw new Error(`${file}:${start + 1}: missing ${SEP} after "${cmdLine}"`);
  i++;
  const out: string[] = [];
  if (lines[i] === SEP) {
    // Fenced output: runs until a doubled separator.
    i++;
    while (i < lines.length && !(lines[i] === SEP && lines[i + 1] === SEP)) out.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: unterminated fenced output`);
    i += 2;
  } else {
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
  }
  const { cmd, args } = parseCommand(cmdLine, `${file}:${start + 1}`);
  return [{ line: start + 1, cmdLine, cmd, args, input, expected: out.join('\n') }, i];
}

/** Splits `cmd a key=val key=(x,y) "quoted text"` into the command and its arguments. */
export function parseCommand(line: string, pos: string): { cmd: string; args: Arg[] } {
  const tokens = tokenize(line, pos);
  const cmd = tokens.shift();
  if (cmd === undefined) throw new Error(`${pos}: empty command`);
  const args = tokens.map((t): Arg => {
    const eq = t.startsWith('"') ? -1 : t.indexOf('=');
    if (eq < 0) return { key: unquote(t), vals: [], bare: true };
    return { key: t.slice(0, eq), vals: splitVals(t.slice(eq + 1)), bare: false };
  });
  return { cmd, args };
}

function tokenize(line: string, pos: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && /\s/.test(ch)) {
      if (cur !== '') tokens.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted || depth !== 0) throw new Error(`${pos}: unbalanced quotes or parentheses in "${line}"`);
  if (cur !== '') tokens.push(cur);
  return tokens;
}

function splitVals(v: string): string[] {
  if (v.startsWith('(') && v.endsWith(')')) {
    const inner = v.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((s) => unquote(s.trim()));
  }
  return [unquote(v)];
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Renders chunks back to text, with each case's output taken from `outputs` (or its expected). */
export function render(chunks: readonly Chunk[], outputs: ReadonlyMap<TestCase, string>): string {
  const lines: string[] = [];
  for (const c of chunks) {
    if (c.kind === 'text') {
      lines.push(...c.lines);
      continue;
    }
    const out = outputs.get(c.tc) ?? c.tc.expected;
    lines.push(c.tc.cmdLine, ...c.tc.input, SEP);
    if (needsFence(out)) lines.push(SEP, ...out.split('\n'), SEP, SEP);
    else if (out !== '') lines.push(...out.split('\n'));
  }
  return lines.join('\n');
}

function needsFence(out: string): boolean {
  return out.split('\n').some((l) => l.trim() === '') && out !== '';
}
