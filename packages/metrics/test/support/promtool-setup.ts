// Global setup of the @prod/metrics tests: looks for promtool once per run. Missing locally,
// one line says that the `promtool check metrics` assertions are skipped; missing under CI=true
// (where .ci/run installs it), the run fails before any test.
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    promtool: boolean;
  }
}

const INSTALL = 'apt-get update && apt-get install -y prometheus';

export default function setup(project: TestProject): void {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).error === undefined;
  if (!found) {
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(
        `promtool is required under CI=true (it checks our exposition text): ${INSTALL}`,
      );
    }
    console.warn(
      `@prod/metrics: promtool not found, its \`promtool check metrics\` assertions are skipped (install: ${INSTALL})`,
    );
  }
  project.provide('promtool', found);
}
