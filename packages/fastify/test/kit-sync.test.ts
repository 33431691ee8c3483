import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The adapters share src/internal/kit/ by copy (an adapter imports nothing of ours but
// @prod/core and @prod/errors); this keeps the three copies identical.
const packages = fileURLToPath(new URL('../../', import.meta.url));
const kit = (adapter: string): string => `${packages}${adapter}/src/internal/kit/`;
const ADAPTERS = ['express', 'fastify', 'koa'];

describe('internal kit', () => {
  const files = readdirSync(kit('express')).sort();

  it('has the same files in every adapter', () => {
    for (const adapter of ADAPTERS) expect(readdirSync(kit(adapter)).sort()).toEqual(files);
  });

  it.each(files)('%s is identical in every adapter', (file) => {
    const reference = readFileSync(`${kit('express')}${file}`, 'utf8');
    for (const adapter of ADAPTERS) {
      expect(readFileSync(`${kit(adapter)}${file}`, 'utf8'), `${adapter}/${file}`).toBe(reference);
    }
  });
});
