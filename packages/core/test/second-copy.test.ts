import * as first from '@prod/core';
import { describe, expect, it, vi } from 'vitest';

// A fresh module graph gives a real second copy of @prod/core (other class identities), as a
// duplicate install or the CJS build loaded beside the ESM one would.
async function secondCopy(): Promise<typeof first> {
  vi.resetModules();
  const copy = await import('@prod/core');
  expect(copy.ProdError).not.toBe(first.ProdError);
  return copy;
}

describe('two copies of @prod/core in one process', () => {
  it('recognize each other’s ProdErrors by brand, not instanceof', async () => {
    const copy = await secondCopy();
    const foreign = copy.CoreErrors.NOT_FOUND('gone');
    expect(foreign instanceof first.ProdError).toBe(false);
    expect(first.isProdError(foreign, 'NOT_FOUND')).toBe(true);
    expect(first.CoreErrors.NOT_FOUND.is(foreign)).toBe(true);
    expect(first.ProdError.from(foreign)).toBe(foreign);
    expect(copy.isProdError(first.CoreErrors.TIMEOUT())).toBe(true);
  });

  it('share one request context store', async () => {
    const copy = await secondCopy();
    first.runWithContext({ requestId: 'from-first' }, () => {
      expect(copy.currentContext()?.requestId).toBe('from-first');
    });
    await copy.runWithContext({ requestId: 'from-copy' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(first.currentContext()?.requestId).toBe('from-copy');
    });
  });

  it('accept each other’s Results', async () => {
    const copy = await secondCopy();
    expect(first.isResult(copy.ok(1))).toBe(true);
    expect(first.unwrap(copy.ok(2))).toBe(2);
  });
});
