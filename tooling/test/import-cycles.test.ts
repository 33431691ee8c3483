// No import cycles in packages/*/src. A cycle makes module initialization order matter (a
// value read before its module ran is undefined in ESM and a half-filled object in CJS) and
// is the sign of a type that belongs in a module of its own. Type-only imports count too:
// they are where such cycles start. Fix one by moving the shared types or helpers out, as
// @prod/errors did with src/types.ts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const sources = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => join(ROOT, 'packages', entry.name, 'src'));

describe('import cycles', () => {
  it('packages/*/src has none (type-only imports included)', async () => {
    const graph = await madge(sources, {
      fileExtensions: ['ts'],
      tsConfig: join(ROOT, 'tsconfig.base.json'),
      // Sibling packages resolve to their dist: they are not part of this graph.
      excludeRegExp: [/node_modules/, /[\\/]dist[\\/]/],
      detectiveOptions: { ts: { skipTypeImports: false } },
    });
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(100);
    expect(graph.circular()).toEqual([]);
  });
});
