import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

// Vite replaces its default conditions when any are given, so vitest's defaults are repeated
// here. Not `module`, which vitest leaves out on purpose: externalized dependencies are loaded
// by Node, and a "module" build may be bundler-only ESM (@opentelemetry/api's is).
const conditions = ['@prod/source', 'node', 'development|production'];

/**
 * The one vitest preset every package and example uses.
 *
 * Tests resolve `@prod/*` to source (no build needed) and import their own package by its
 * public name, so they exercise the exports map rather than relative paths.
 */
export function prodProject(configUrl: string): UserWorkspaceConfig {
  const root = dirname(fileURLToPath(configUrl));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
  const escaped = pkg.name.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&');
  return defineProject({
    root,
    resolve: {
      conditions,
      alias: [{ find: new RegExp(`^${escaped}$`), replacement: join(root, 'src/index.ts') }],
    },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      name: pkg.name,
      include: ['test/**/*.test.ts'],
      typecheck: {
        enabled: true,
        include: ['test/**/*.test-d.ts'],
        tsconfig: join(root, 'tsconfig.json'),
      },
      testTimeout: 10_000,
      hookTimeout: 30_000,
      restoreMocks: true,
    },
  });
}
