import { CoreErrors, err, isProdError, ok } from '@prod/core';
import { fallback } from '@prod/errors';
import { describe, expect, it } from 'vitest';
import { invalidOption } from './helpers.js';

describe('fallback', () => {
  it('replaces an error with the substitute Result and hands the handler the error', async () => {
    const seen: unknown[] = [];
    const error = CoreErrors.UNAVAILABLE();
    const r = await fallback((e) => {
      seen.push(e);
      return ok('cached');
    }).execute(() => err(error));
    expect(r).toEqual({ ok: true, value: 'cached' });
    expect(seen).toEqual([error]);
  });

  it('leaves successes alone and never calls the handler', async () => {
    let called = false;
    const r = await fallback(() => {
      called = true;
      return ok('x');
    }).execute(() => ok('real'));
    expect(r).toEqual({ ok: true, value: 'real' });
    expect(called).toBe(false);
  });

  it('only replaces the errors `when` accepts', async () => {
    const policy = fallback(async () => ok('default'), {
      when: (e) => isProdError(e) && e.status >= 500,
    });
    expect(await policy.execute(() => err(CoreErrors.INTERNAL()))).toEqual({
      ok: true,
      value: 'default',
    });
    const notFound = CoreErrors.NOT_FOUND();
    expect(await policy.execute(() => err(notFound))).toEqual({ ok: false, error: notFound });
  });

  it('a fallback may fail too: an Err, a throw or a rejection', async () => {
    const own = CoreErrors.UNAVAILABLE('cache down too');
    expect(await fallback(() => err(own)).execute(() => err('x'))).toEqual({
      ok: false,
      error: own,
    });
    const thrown = await fallback(() => {
      throw new Error('handler bug');
    }).execute(() => err('x'));
    expect(!thrown.ok && isProdError(thrown.error, 'INTERNAL')).toBe(true);
    const rejected = await fallback(() => Promise.reject(new Error('nope'))).execute(() =>
      err('x'),
    );
    expect(!rejected.ok && isProdError(rejected.error, 'INTERNAL')).toBe(true);
  });

  it('requires a function', () => {
    expect(invalidOption(() => fallback('value' as never))).toBe('handler');
    expect(invalidOption(() => fallback(() => ok(1), { when: true as never }))).toBe('when');
  });
});
