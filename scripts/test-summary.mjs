// Prints the one line the CI reader understands, "N passed, N failed, N skipped", from vitest's
// JSON report. Its own summary has a different shape, so we count from the report instead.
import { existsSync, readFileSync } from 'node:fs';

// One or more reports (one per test phase); every one must exist.
const reportPaths = process.argv.length > 2 ? process.argv.slice(2) : ['test-results/vitest.json'];

let passed = 0;
let failed = 0;
let skipped = 0;
for (const reportPath of reportPaths) {
  if (!existsSync(reportPath)) {
    // No report: vitest never ran (type-check or lint failed first) or crashed before writing.
    console.log(`no test report at ${reportPath}: the test run did not complete`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  let failedInReport = 0;
  for (const file of report.testResults ?? []) {
    let failedHere = 0;
    for (const test of file.assertionResults ?? []) {
      if (test.status === 'passed') passed++;
      else if (test.status === 'failed') failedHere++;
      else skipped++; // skipped, pending, todo, disabled
    }
    // A file that fails to load or throws outside a test has no failing test but still failed.
    failedInReport += file.status === 'failed' && failedHere === 0 ? 1 : failedHere;
  }
  // Unhandled errors make the run fail without failing any file: never report that as green.
  if (report.success === false && failedInReport === 0) failedInReport = 1;
  failed += failedInReport;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
