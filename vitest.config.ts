import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Heavy numeric tests use worker threads themselves; keep vitest's own pool small
    // so a 2-core CI machine is not oversubscribed.
    pool: 'forks',
    maxWorkers: 2,
  },
});
