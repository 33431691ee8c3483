import { defineConfig, type Options } from 'tsup';

/**
 * The one build every package uses: ESM + CJS + .d.ts for Node 20.
 * `splitting: true` keeps one copy of module state shared by every CJS entry.
 */
export function prodBuild(options: Partial<Options> = {}): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: false,
    minify: false,
    ...options,
  });
}
