import { parseArgs } from 'node:util';
import { isVariantName } from './mutants.js';
import { runSeed, type SimResult } from './run.js';
import type { SimProfile } from './simulation.js';

const usage = `usage: npm run sim -- [--seeds N] [--start S] [--seed S] [--nodes 3|5] [--variant correct|commit-previous-term|double-vote]
                     [--profile mixed|churn] [--trace] [--quiet]
  --seeds N    run N consecutive seeds starting at --start (default 0)
  --seed S     run exactly one seed (same as --start S --seeds 1)
  --trace      print the event trace of a failing (or single) seed`;

function parse(): { start: number; count: number; nodes: number; variant: string; profile: string; trace: boolean; quiet: boolean } {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      variant: { type: 'string' },
      profile: { type: 'string' },
      trace: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const int = (v: string | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      console.error(`--${name} must be a non-negative integer, got "${v}"\n${usage}`);
      process.exit(2);
    }
    return n;
  };
  const single = values.seed !== undefined;
  return {
    start: single ? int(values.seed, 'seed', 0) : int(values.start, 'start', 0),
    count: single ? 1 : int(values.seeds, 'seeds', 100),
    nodes: int(values.nodes, 'nodes', 3),
    variant: values.variant ?? 'correct',
    profile: values.profile ?? 'mixed',
    trace: values.trace ?? false,
    quiet: values.quiet ?? false,
  };
}

function main(): void {
  const opts = parse();
  if (!isVariantName(opts.variant)) {
    console.error(`unknown --variant "${opts.variant}"\n${usage}`);
    process.exit(2);
  }
  if (opts.profile !== 'mixed' && opts.profile !== 'churn') {
    console.error(`unknown --profile "${opts.profile}"\n${usage}`);
    process.exit(2);
  }
  const profile: SimProfile = opts.profile;
  if (opts.nodes < 1 || opts.nodes > 9) {
    console.error(`--nodes must be between 1 and 9\n${usage}`);
    process.exit(2);
  }
  const started = process.hrtime.bigint();
  let failures = 0;
  let unknown = 0;
  let elections = 0;
  let ops = 0;
  for (let seed = opts.start; seed < opts.start + opts.count; seed++) {
    const r = runSeed({ seed, nodes: opts.nodes, variant: opts.variant, profile, trace: opts.trace });
    elections += r.stats.elections;
    ops += r.ops.ok;
    if (r.linearizable === 'unknown') unknown++;
    if (!r.ok) {
      failures++;
      report(r, opts.trace);
    } else if (opts.count === 1 && opts.trace) {
      console.log(r.trace.join('\n'));
    }
    if (!opts.quiet && (seed - opts.start + 1) % 1000 === 0) console.log(`... ${seed - opts.start + 1} seeds, ${failures} failing`);
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `${opts.count} seeds (${opts.start}..${opts.start + opts.count - 1}), ${opts.nodes} nodes, variant ${opts.variant}, profile ${profile}: ${failures} failing, ${unknown} with linearizability undecided, ${elections} leaders elected, ${ops} client ops completed, ${secs.toFixed(1)} s`,
  );
  process.exitCode = failures > 0 ? 1 : 0;
}

function report(r: SimResult, trace: boolean): void {
  console.log(`FAIL seed ${r.seed}: ${r.violation?.kind}: ${r.violation?.detail}`);
  console.log(`  config: ${r.config}`);
  console.log(`  replay: ${r.replay}`);
  if (trace) console.log(r.trace.join('\n'));
}

main();
