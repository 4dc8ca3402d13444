import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DurableStorage } from '../durable-storage.js';
import type { CrashChildConfig } from './crash-child.js';
import { ackedCommit, lastIndexOf, matchingPrefix, parseTranscript, type ChildTranscript, type ModelLog } from './crash-model.js';
import { payloadProblem } from './payload.js';

/**
 * Bundles crash-child.ts into one plain .mjs: starting it costs ~0.1 s instead of ~0.8 s under
 * tsx, which is what lets the default suite afford 50+ real processes. esbuild is what tsx (a
 * devDependency) runs on, so it is always installed alongside it.
 */
export async function bundleChild(outDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = path.join(outDir, 'crash-child.mjs');
  const entry = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
  // Bundled ESM still meets CommonJS dependencies (zod): give them a require.
  const banner = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', banner: { js: banner }, logLevel: 'error' });
  return outfile;
}

export interface IterationOutcome {
  readonly transcript: ChildTranscript;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** Whether the child killed itself at a crash point before the parent's timer fired. */
  readonly selfKilled: boolean;
}

/** Runs the child until SIGKILL: the parent's after `killAfterMs` from ready, or its own at a crash point. */
export function runChild(bundle: string, config: CrashChildConfig, killAfterMs: number): Promise<IterationOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    let parentKilled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === null && stdout.includes('ready ')) {
        timer = setTimeout(() => {
          parentKilled = true;
          child.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (timer !== null) clearTimeout(timer);
      resolve({ transcript: parseTranscript(stdout), signal, stderr, selfKilled: signal === 'SIGKILL' && !parentKilled });
    });
  });
}

export interface RecoveredView {
  readonly log: ModelLog;
  readonly commit: number;
  readonly tornTails: number;
}

/**
 * Reopens the storage and checks everything the crash tests promise, beyond the model match:
 * every entry from firstIndex to lastIndex reads back (contiguous, CRC-checked) with its own
 * payload intact, commit <= lastIndex, and the snapshot covers the compaction point.
 */
export async function recoverAndCheck(dir: string, base: ModelLog, baseCommit: number, outcome: IterationOutcome): Promise<RecoveredView> {
  const problems: string[] = [...outcome.transcript.problems];
  if (outcome.signal !== 'SIGKILL') problems.push(`child ended without SIGKILL (signal ${outcome.signal}); stderr: ${outcome.stderr}`);
  let tornTails = 0;
  const storage = await DurableStorage.open(dir, { logger: { warn: () => tornTails++ } });
  try {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    const entries = last >= first ? storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
    if (entries.length !== last - first + 1) problems.push(`read ${entries.length} entries from [${first}, ${last}]`);
    entries.forEach((e, i) => {
      if (e.index !== first + i) problems.push(`entry at position ${i} has index ${e.index}, expected ${first + i}`);
      const p = payloadProblem(e);
      if (p !== null) problems.push(p);
    });
    const log: ModelLog = { start: first - 1, terms: entries.map((e) => e.term) };
    const { commit } = storage.initialState().hardState;
    if (commit > last) problems.push(`hard state commit ${commit} is past the last index ${last}`);
    const guaranteed = ackedCommit(outcome.transcript, baseCommit);
    if (commit < guaranteed) problems.push(`hard state commit ${commit} is behind the acknowledged ${guaranteed}`);
    if (storage.snapshot().metadata.index < first - 1)
      problems.push(`snapshot ${storage.snapshot().metadata.index} does not cover the compaction point ${first - 1}`);
    const k = matchingPrefix(base, outcome.transcript, log);
    if (typeof k === 'string') problems.push(k);
    if (problems.length > 0) throw new Error(`crash recovery check failed in ${dir}:\n  ${problems.slice(0, 10).join('\n  ')}`);
    return { log, commit, tornTails };
  } finally {
    await storage.close();
  }
}

export { lastIndexOf };
