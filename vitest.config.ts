import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
      'tooling/vitest.config.ts',
    ],
    // The Redis and PostgreSQL servers are shared: give integration tests room, not races.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
