import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// Checks of the repository itself rather than of one package: no import cycles, every
// documented snippet compiles, type tests hold under plain `--strict`. Each runs tsc or a
// dependency graph over the whole tree, hence the long timeouts.
export default defineProject({
  root: dirname(fileURLToPath(import.meta.url)),
  test: {
    name: 'tooling',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
