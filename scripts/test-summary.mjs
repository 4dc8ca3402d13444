// Prints the one line the CI reader understands, "N passed, N failed, N skipped", from vitest's
// JSON report. Its own summary has a different shape, so we count from the report instead.
import { existsSync, readFileSync } from 'node:fs';

const reportPath = process.argv[2] ?? 'test-results/vitest.json';

if (!existsSync(reportPath)) {
  // No report: vitest never ran (type-check or lint failed first) or crashed before writing.
  console.log(`no test report at ${reportPath}: the test run did not complete`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(0);
}

const report = JSON.parse(readFileSync(reportPath, 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of report.testResults ?? []) {
  let failedHere = 0;
  for (const test of file.assertionResults ?? []) {
    if (test.status === 'passed') passed++;
    else if (test.status === 'failed') failedHere++;
    else skipped++; // skipped, pending, todo, disabled
  }
  // A file that fails to load or throws outside a test has no failing test but still failed.
  failed += file.status === 'failed' && failedHere === 0 ? 1 : failedHere;
}
// Unhandled errors make the run fail without failing any file: never report that as green.
if (report.success === false && failed === 0) failed = 1;

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
