// Runs vitest with a JSON report next to the usual console output, prints the CI summary line
// last, and exits non-zero if any phase failed. Extra arguments go to vitest (`npm test -- src/lint`).
//
// Two phases: every test file in two parallel workers, then the `*.exclusive.test.ts` files
// alone, one at a time: they measure throughput on this machine's two cores (a node pinned to
// one, its load generator on the other) and must not share them with other tests.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const reports = ['test-results/vitest.json', 'test-results/vitest-exclusive.json'];
// A stale report from an earlier run must never be summarised as this run's result.
for (const r of reports) rmSync(r, { force: true });

// vitest's own bin through this node: no shell, no npx, the same on every platform.
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const extra = process.argv.slice(2);
const exclusive = '**/*.exclusive.test.ts';
const run = (report, args) => spawnSync(process.execPath, [vitestBin, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], { stdio: 'inherit' });

// With file arguments, run only the phases they name files of.
const wantsExclusive = extra.length === 0 || extra.some((a) => a.includes('exclusive'));
const wantsShared = extra.length === 0 || extra.some((a) => !a.includes('exclusive'));
const skipped = { status: 0 };
const shared = wantsShared ? run(reports[0], ['--exclude', exclusive, '--exclude', 'node_modules/**', ...extra.filter((a) => !a.includes('exclusive'))]) : skipped;
const alone = wantsExclusive ? run(reports[1], ['--no-file-parallelism', ...(extra.length === 0 ? ['exclusive.test.ts'] : extra.filter((a) => a.includes('exclusive')))]) : skipped;
const ran = reports.filter((_, i) => (i === 0 ? wantsShared : wantsExclusive));
spawnSync(process.execPath, [fileURLToPath(new URL('test-summary.mjs', import.meta.url)), ...ran], { stdio: 'inherit' });

// A signal leaves no status: that is a failure too.
process.exit((shared.status ?? 1) || (alone.status ?? 1));
