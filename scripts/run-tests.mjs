// Runs vitest with a JSON report next to the usual console output, prints the CI summary line
// last, and exits with vitest's own exit code. Extra arguments go to vitest (`npm test -- src/lint`).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const report = 'test-results/vitest.json';
// A stale report from an earlier run must never be summarised as this run's result.
rmSync(report, { force: true });

// vitest's own bin through this node: no shell, no npx, the same on every platform.
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const vitest = spawnSync(process.execPath, [vitestBin, ...args], { stdio: 'inherit' });
spawnSync(process.execPath, [fileURLToPath(new URL('test-summary.mjs', import.meta.url)), report], { stdio: 'inherit' });

// A signal leaves no status: that is a failure too.
process.exit(vitest.status ?? 1);
