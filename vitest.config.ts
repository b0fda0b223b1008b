import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration files each use their own database / queue prefix, so they can run in parallel;
    // two workers match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
