import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Most CLI runs are in-process and most test time is spent waiting on simulated builds, timers
    // and child apps, not on the CPU: four workers finish the suite sooner than two even on two cores.
    maxWorkers: 4,
  },
});
