import { CoreErrors, definePart, err, isThenable, json, ok, type Part } from '@prod/core';
import { partHooks, routeResponse, runOnRequestHooks } from '@prod/core/adapter';
import { describe, expect, it } from 'vitest';

const renderError = () => json(500, {});
const request = {
  method: 'GET',
  path: '/x',
  route: '/x',
  headers: {},
  ip: undefined,
  query: {},
  params: {},
  body: undefined,
  signal: undefined,
  meta: {},
};

function hooksOf(parts: Part[]) {
  return partHooks({ adapter: 'test', parts, renderError });
}

function recorder(calls: string[], name: string, answer?: () => unknown): Part {
  return definePart({
    name,
    onRequest: (() => {
      calls.push(name);
      return answer?.();
    }) as NonNullable<Part['onRequest']>,
  });
}

describe('runOnRequestHooks', () => {
  it('answers synchronously, without a promise, when every hook does', () => {
    const calls: string[] = [];
    const hooks = hooksOf([recorder(calls, 'a'), recorder(calls, 'b')]);
    const result = runOnRequestHooks(hooks, request);
    expect(isThenable(result)).toBe(false);
    expect(result).toBeUndefined();
    expect(calls).toEqual(['a', 'b']);
  });

  it('stops at the first synchronous answer', () => {
    const calls: string[] = [];
    const early = json(429, { limited: true });
    const hooks = hooksOf([recorder(calls, 'a', () => early), recorder(calls, 'b')]);
    expect(runOnRequestHooks(hooks, request)).toBe(early);
    expect(calls).toEqual(['a']);
  });

  it('awaits from the first hook that returns a promise, and runs the later ones after it', async () => {
    const calls: string[] = [];
    let release = (): void => {};
    const gate = new Promise<undefined>((resolve) => {
      release = () => resolve(undefined);
    });
    const hooks = hooksOf([
      recorder(calls, 'a'),
      recorder(calls, 'b', () => gate),
      recorder(calls, 'c'),
      recorder(calls, 'd', () => Promise.resolve(json(401, {}))),
      recorder(calls, 'e'),
    ]);
    const result = runOnRequestHooks(hooks, request);
    expect(isThenable(result)).toBe(true);
    expect(calls).toEqual(['a', 'b']);
    release();
    expect(await result).toMatchObject({ status: 401 });
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
  });

  it('throws what a synchronous hook throws, and rejects with what an async one rejects', async () => {
    const thrown = CoreErrors.UNAUTHORIZED({ message: 'no' });
    const sync = hooksOf([
      recorder([], 'a', () => {
        throw thrown;
      }),
    ]);
    expect(() => runOnRequestHooks(sync, request)).toThrow(thrown);
    const later = hooksOf([recorder([], 'a', () => Promise.reject(thrown))]);
    await expect(runOnRequestHooks(later, request)).rejects.toBe(thrown);
  });
});

describe('routeResponse', () => {
  it('passes a response, unwraps a successful Result, and throws a ProdError or a failed one', () => {
    const response = json(200, { ok: true });
    expect(routeResponse(response)).toBe(response);
    expect(routeResponse(ok(response))).toBe(response);
    const error = CoreErrors.CONFLICT({ message: 'taken' });
    expect(() => routeResponse(error)).toThrow(error);
    expect(() => routeResponse(err(error))).toThrow(error);
  });
});

describe('isThenable', () => {
  it('accepts anything with a callable then, and nothing else', () => {
    expect(isThenable(Promise.resolve())).toBe(true);
    const thenKey = 'then';
    expect(isThenable({ [thenKey]: () => undefined })).toBe(true);
    expect(isThenable({ [thenKey]: 1 })).toBe(false);
    expect(isThenable(null)).toBe(false);
    expect(isThenable(json(200, {}))).toBe(false);
  });
});
