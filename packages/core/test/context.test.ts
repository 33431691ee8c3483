import {
  contextExtension,
  currentContext,
  type RequestContext,
  runInContextScope,
  runWithContext,
} from '@prod/core';
import { describe, expect, it } from 'vitest';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 5));

// Before any runWithContext of this file: a scope switches the context off only while nothing
// has pinned it (the rule of runInContextScope, Node 20 and 21 only).
describe('request context scopes', () => {
  const switchesOff = Number(process.versions.node.split('.')[0]) < 22;
  const later = (): Promise<RequestContext | undefined> =>
    new Promise((resolve) => setTimeout(() => resolve(currentContext()), 20));

  it('is the given object inside, through awaits, until fn returns or its promise settles', async () => {
    const context: RequestContext = { requestId: 'job-1' };
    const out = await runInContextScope(context, async () => {
      expect(currentContext()).toBe(context);
      await tick();
      expect(currentContext()).toBe(context);
      return 'done';
    });
    expect(out).toBe('done');
    expect(currentContext()).toBeUndefined();
    expect(runInContextScope(context, () => currentContext())).toBe(context);
    expect(() =>
      runInContextScope(context, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    await expect(
      runInContextScope(context, () => Promise.reject(new Error('async'))),
    ).rejects.toThrow('async');
    expect(currentContext()).toBeUndefined();
  });

  it('keeps concurrent scopes isolated, and each one alive while another has ended', async () => {
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runInContextScope({ requestId: `job-${i}` }, async () => {
          const ids: string[] = [];
          for (let step = 0; step < 3; step++) {
            await tick();
            ids.push(currentContext()?.requestId ?? 'none');
          }
          return { i, ids };
        }),
      ),
    );
    for (const { i, ids } of seen) expect(ids).toEqual([`job-${i}`, `job-${i}`, `job-${i}`]);
  });

  it('switches off once the last scope ended while nothing pinned it (Node 20, 21): work left behind sees no context', async () => {
    const context: RequestContext = { requestId: 'job-left' };
    // The scope ends as fn returns: the timer's promise is not what it returned.
    const { left } = runInContextScope(context, () => ({ left: later() }));
    expect(await left).toBe(switchesOff ? undefined : context);
  });

  it('never switches off once runWithContext was used: work left behind keeps its context', async () => {
    runWithContext({ requestId: 'pin' }, () => {});
    const context: RequestContext = { requestId: 'job-kept' };
    const { left } = runInContextScope(context, () => ({ left: later() }));
    expect(await left).toBe(context);
  });
});

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
