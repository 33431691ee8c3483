import { contextExtension, currentContext, type RequestContext, runWithContext } from '@prod/core';
import { describe, expect, it } from 'vitest';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 5));

describe('request context', () => {
  it('is undefined outside of runWithContext', () => {
    expect(currentContext()).toBeUndefined();
  });

  it('is the given object inside, through awaits, and returns fn’s value', async () => {
    const context: RequestContext = { requestId: 'r1', traceId: 't1', spanId: 's1' };
    const out = await runWithContext(context, async () => {
      expect(currentContext()).toBe(context);
      await tick();
      expect(currentContext()).toBe(context);
      return 'done';
    });
    expect(out).toBe('done');
    expect(currentContext()).toBeUndefined();
  });

  it('lets parts fill fields in as the request goes', () => {
    runWithContext({ requestId: 'r' }, () => {
      const context = currentContext();
      if (context) context.actor = { id: 'u1', type: 'user' };
      expect(currentContext()?.actor).toEqual({ id: 'u1', type: 'user' });
    });
  });

  it('nests: the inner context wins inside, the outer comes back after', () => {
    runWithContext({ requestId: 'outer' }, () => {
      runWithContext({ requestId: 'inner' }, () => {
        expect(currentContext()?.requestId).toBe('inner');
      });
      expect(currentContext()?.requestId).toBe('outer');
    });
  });

  it('keeps concurrent async tasks isolated', async () => {
    const seen = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runWithContext({ requestId: `req-${i}` }, async () => {
          const ids: string[] = [];
          for (let step = 0; step < 3; step++) {
            await tick();
            ids.push(currentContext()?.requestId ?? 'none');
          }
          return { i, ids };
        }),
      ),
    );
    for (const { i, ids } of seen) expect(ids).toEqual([`req-${i}`, `req-${i}`, `req-${i}`]);
  });

  it('propagates a throw from fn', () => {
    expect(() =>
      runWithContext({ requestId: 'r' }, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(currentContext()).toBeUndefined();
  });

  it('reads a package’s own extension by its symbol', () => {
    const mine = Symbol('mine');
    const other = Symbol('other');
    const extensions = new Map<symbol, unknown>([[mine, { count: 1 }]]);
    runWithContext({ requestId: 'r', extensions }, () => {
      expect(contextExtension<{ count: number }>(mine)).toEqual({ count: 1 });
      expect(contextExtension(other)).toBeUndefined();
    });
    runWithContext({ requestId: 'r' }, () => {
      expect(contextExtension(mine)).toBeUndefined();
    });
    expect(contextExtension(mine)).toBeUndefined();
  });

  it('shares one store per process through a global symbol', () => {
    const store = (globalThis as Record<symbol, unknown>)[Symbol.for('@prod/core/request-context')];
    expect(store).toBeDefined();
    runWithContext({ requestId: 'shared' }, () => {
      expect((store as { getStore(): RequestContext }).getStore().requestId).toBe('shared');
    });
  });
});
