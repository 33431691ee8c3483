import {
  CoreErrors,
  definePart,
  err,
  type HttpResponse,
  isThenable,
  json,
  ok,
  type Part,
} from '@prod/core';
import { describe, expect, it } from 'vitest';
// The hook runners are internal to the kit: reached by path, not through the exports map.
import { routeResponse, runOnRequest, runOnSend, sortHooks } from '../src/adapter/hooks.js';

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

function hooksOf(parts: Part[], reported: unknown[] = []) {
  return sortHooks(parts, (error) => reported.push(error));
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

describe('runOnRequest', () => {
  it('answers synchronously, without a promise, when every hook does', () => {
    const calls: string[] = [];
    const hooks = hooksOf([recorder(calls, 'a'), recorder(calls, 'b')]);
    const result = runOnRequest(hooks, request);
    expect(isThenable(result)).toBe(false);
    expect(result).toBeUndefined();
    expect(calls).toEqual(['a', 'b']);
  });

  it('stops at the first synchronous answer', () => {
    const calls: string[] = [];
    const early = json(429, { limited: true });
    const hooks = hooksOf([recorder(calls, 'a', () => early), recorder(calls, 'b')]);
    expect(runOnRequest(hooks, request)).toBe(early);
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
    const result = runOnRequest(hooks, request);
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
    expect(() => runOnRequest(sync, request)).toThrow(thrown);
    const later = hooksOf([recorder([], 'a', () => Promise.reject(thrown))]);
    await expect(runOnRequest(later, request)).rejects.toBe(thrown);
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

describe('runOnSend', () => {
  const sender = (name: string, change: (response: HttpResponse) => unknown): Part =>
    definePart({ name, onSend: (_request, response) => change(response) as HttpResponse });

  it('runs in reverse mount order, each hook seeing what the later-mounted one returned', () => {
    const order: string[] = [];
    const hooks = hooksOf([
      sender('outer', (response) => {
        order.push('outer');
        return {
          ...response,
          headers: { ...response.headers, 'x-outer': String(response.headers?.['x-inner']) },
        };
      }),
      sender('inner', (response) => {
        order.push('inner');
        return { ...response, headers: { ...response.headers, 'x-inner': 'seen' } };
      }),
    ]);
    const sent = runOnSend(hooks, request, json(200, {}), { native: false });
    expect(order).toEqual(['inner', 'outer']);
    expect(sent.response.headers).toMatchObject({ 'x-inner': 'seen', 'x-outer': 'seen' });
    expect(sent.changedBy?.name).toBe('outer');
  });

  it('reports and skips a hook that throws, returns a promise or a non-response', () => {
    const reported: unknown[] = [];
    const original = json(200, { a: 1 });
    const hooks = hooksOf(
      [
        sender('throws', () => {
          throw new Error('boom');
        }),
        sender('async', () => Promise.resolve(json(500, {}))),
        sender('number', () => 42),
        sender('none', () => undefined),
      ],
      reported,
    );
    const sent = runOnSend(hooks, request, original, { native: false });
    expect(sent.response).toBe(original);
    expect(sent.changedBy).toBeUndefined();
    expect(reported).toHaveLength(3);
    expect(String(reported[1])).toMatch(/synchronous/);
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
