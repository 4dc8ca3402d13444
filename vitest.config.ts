import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
    // 2-core machines: two workers keep the simulator seeds moving without starving each other.
    // --expose-gc lets memory tests prove that evicted data is really released.
    poolOptions: { forks: { maxForks: 2, minForks: 1, execArgv: ['--expose-gc'] } },
    pool: 'forks',
    testTimeout: 120_000,
    // Stopping a test cluster kills its processes and removes hundreds of MB of data.
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
