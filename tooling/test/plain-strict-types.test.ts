// The type tests (`*.test-d.ts`) of every package, compiled again with plain `strict` and no
// other strictness flag (tsconfig.plain-strict.json), as most users compile. The repository's
// own flags (exactOptionalPropertyTypes above all) hide defects such a user hits: an optional
// marker property once made `policy(fallback(() => ok(0)), ...)` type its value as
// `number | undefined`. vitest runs the same files with the packages' flags.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('type tests under plain --strict', () => {
  it('every *.test-d.ts compiles with strict alone', () => {
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tooling/tsconfig.plain-strict.json'),
        '--pretty',
        'false',
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    const errors = `${tsc.stdout}${tsc.stderr}`
      .split('\n')
      .filter((line) => line.includes('error TS'));
    expect(errors).toEqual([]);
    expect(tsc.status).toBe(0);
  }, 120_000);
});
