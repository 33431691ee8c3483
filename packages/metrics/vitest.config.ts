import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import { prodProject } from '../../config/vitest.preset.ts';

// The preset, plus one promtool lookup per run (see test/support/promtool-setup.ts).
export default mergeConfig(prodProject(import.meta.url), {
  test: {
    globalSetup: [fileURLToPath(new URL('test/support/promtool-setup.ts', import.meta.url))],
  },
});
