import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { CoreErrors, isProdError, PROBLEM_CONTENT_TYPE, ProdError } from '@prod/core';
import { describe, expect, it } from 'vitest';

const BRAND = Symbol.for('@prod/core/ProdError');

/** A port on 127.0.0.1 that nothing listens on: bound by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** The error a real TCP connection to a closed port fails with. */
async function connectionRefused(): Promise<Error> {
  const port = await closedPort();
  const socket = connect({ host: '127.0.0.1', port });
  const [error] = (await once(socket, 'error').catch((e: unknown) => [e])) as [Error];
  socket.destroy();
  return error;
}

describe('new ProdError', () => {
  it('is an Error with every field and sensible defaults', () => {
    const error = new ProdError({ code: 'NOTE_NOT_FOUND' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProdError');
    expect(error.code).toBe('NOTE_NOT_FOUND');
    expect(error.status).toBe(500);
    expect(error.title).toBe('Internal Server Error');
    expect(error.message).toBe('Internal Server Error');
    expect(error.retryable).toBe(false);
    expect(error.details).toBeUndefined();
    expect(error.errors).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expect('cause' in error).toBe(false);
    expect(error.expose).toBe(false);
    expect(error.stack).toContain('prod-error.test.ts');
  });

  it('takes every option', () => {
    const cause = new Error('root');
    const error = new ProdError({
      code: 'CACHE_UNAVAILABLE',
      status: 503,
      title: 'Cache unavailable',
      message: 'Redis did not answer',
      retryable: true,
      details: { host: 'redis' },
      errors: [{ path: '/a', message: 'bad' }],
      cause,
      retryAfterMs: 1500,
      expose: true,
      type: 'https://example.com/problems/cache',
    });
    expect(error).toMatchObject({
      code: 'CACHE_UNAVAILABLE',
      status: 503,
      title: 'Cache unavailable',
      message: 'Redis did not answer',
      retryable: true,
      details: { host: 'redis' },
      errors: [{ path: '/a', message: 'bad' }],
      retryAfterMs: 1500,
      expose: true,
      type: 'https://example.com/problems/cache',
    });
    expect(error.cause).toBe(cause);
  });

  it('defaults the title to the status text and expose to status < 500', () => {
    const notFound = new ProdError({ code: 'X', status: 404 });
    expect(notFound.title).toBe('Not Found');
    expect(notFound.expose).toBe(true);
    expect(new ProdError({ code: 'X', status: 502 }).expose).toBe(false);
  });

  it('skips the stack frames with captureStack: false, and restores the global limit', () => {
    const before = Error.stackTraceLimit;
    const error = new ProdError({ code: 'X', message: 'cheap', captureStack: false });
    expect(error.stack).not.toContain('prod-error.test.ts');
    expect(error.stack).not.toContain('\n    at ');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('after').stack).toContain('\n    at ');
  });
});

describe('isProdError', () => {
  it('recognizes a ProdError, optionally by code', () => {
    const error = new ProdError({ code: 'A_B' });
    expect(isProdError(error)).toBe(true);
    expect(isProdError(error, 'A_B')).toBe(true);
    expect(isProdError(error, 'OTHER')).toBe(false);
  });

  it('recognizes a ProdError of another copy of the package by its Symbol.for brand', () => {
    // What a second install (or the CJS build next to the ESM one) looks like: another class,
    // same global symbol on its prototype.
    class OtherCopyError extends Error {
      readonly code = 'OTHER_COPY';
      readonly status = 503;
    }
    Object.defineProperty(OtherCopyError.prototype, BRAND, { value: true });
    const foreign = new OtherCopyError('from elsewhere');
    expect(foreign instanceof ProdError).toBe(false);
    expect(isProdError(foreign)).toBe(true);
    expect(isProdError(foreign, 'OTHER_COPY')).toBe(true);
    expect(ProdError.from(foreign)).toBe(foreign);
  });

  it('rejects look-alikes: a plain Error with a code, a JSON copy, a falsy brand, primitives', () => {
    const lookAlike = Object.assign(new Error('x'), { code: 'X', status: 500 });
    expect(isProdError(lookAlike)).toBe(false);
    expect(isProdError(JSON.parse(JSON.stringify(new ProdError({ code: 'X' }))))).toBe(false);
    expect(isProdError({ [BRAND]: 'yes', code: 'X' })).toBe(false);
    expect(isProdError({ [Symbol('@prod/core/ProdError')]: true })).toBe(false);
    for (const value of [null, undefined, 0, 'ProdError', true]) {
      expect(isProdError(value)).toBe(false);
    }
  });
});

describe('ProdError.from', () => {
  it('returns a ProdError as is', () => {
    const error = CoreErrors.NOT_FOUND();
    expect(ProdError.from(error)).toBe(error);
  });

  it('turns a thrown string into INTERNAL with the string as message and cause', () => {
    const error = ProdError.from('boom');
    expect(error.code).toBe('INTERNAL');
    expect(error.status).toBe(500);
    expect(error.message).toBe('boom');
    expect(error.cause).toBe('boom');
    expect(error.retryable).toBe(false);
  });

  it('keeps the message of a plain object', () => {
    const thrown = { message: 'plain', extra: 1 };
    const error = ProdError.from(thrown);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('plain');
    expect(error.cause).toBe(thrown);
  });

  it('gives "Unknown error" for an object without a message and for null, undefined, numbers', () => {
    for (const thrown of [{ reason: 'x' }, { message: 42 }, null, undefined, 42, Symbol('s')]) {
      const error = ProdError.from(thrown);
      expect(error.code).toBe('INTERNAL');
      expect(error.message).toBe('Unknown error');
      expect(error.cause).toBe(thrown);
    }
  });

  it('keeps a plain Error as cause', () => {
    const thrown = new TypeError('x is not a function');
    const error = ProdError.from(thrown);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('x is not a function');
    expect(error.cause).toBe(thrown);
    expect(error.expose).toBe(false);
  });

  it('maps an AbortError (AbortController) to ABORTED, same title as CoreErrors.ABORTED', () => {
    const controller = new AbortController();
    controller.abort();
    const error = ProdError.from(controller.signal.reason);
    expect(error.code).toBe('ABORTED');
    expect(error.status).toBe(499);
    expect(error.retryable).toBe(false);
    expect(error.cause).toBe(controller.signal.reason);
    expect(error.title).toBe(CoreErrors.ABORTED().title);
  });

  it('maps the AbortError of an aborted Node API to ABORTED', async () => {
    const { setTimeout: sleep } = await import('node:timers/promises');
    const controller = new AbortController();
    const pending = sleep(10_000, undefined, { signal: controller.signal });
    controller.abort();
    const thrown = await pending.catch((e: unknown) => e);
    expect(ProdError.from(thrown).code).toBe('ABORTED');
  });

  it('maps a TimeoutError (AbortSignal.timeout) to retryable TIMEOUT', async () => {
    const signal = AbortSignal.timeout(1);
    await once(signal, 'abort');
    const error = ProdError.from(signal.reason);
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect(error.code).toBe('TIMEOUT');
    expect(error.status).toBe(504);
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(signal.reason);
    expect(error.title).toBe(CoreErrors.TIMEOUT().title);
  });

  it('maps an ETIMEDOUT-shaped system error to retryable TIMEOUT', () => {
    const thrown = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:5432'), {
      code: 'ETIMEDOUT',
      errno: -110,
      syscall: 'connect',
    });
    const error = ProdError.from(thrown);
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('connect ETIMEDOUT 10.0.0.1:5432');
  });

  it('maps a real ECONNREFUSED (net.connect to a closed 127.0.0.1 port) to retryable UNAVAILABLE', async () => {
    const thrown = await connectionRefused();
    expect((thrown as { code?: string }).code).toBe('ECONNREFUSED');
    const error = ProdError.from(thrown);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(error.details).toEqual({ systemCode: 'ECONNREFUSED' });
    expect(error.cause).toBe(thrown);
    expect(error.title).toBe(CoreErrors.UNAVAILABLE().title);
  });

  it('looks through a wrapper for the system error: fetch to a closed port is UNAVAILABLE', async () => {
    const port = await closedPort();
    const thrown = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect((thrown as Error).message).toBe('fetch failed');
    const error = ProdError.from(thrown);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(thrown);
  });

  it('uses the fallback for anything unrecognized, but not for recognized kinds', () => {
    const error = ProdError.from(new Error('raw'), {
      code: 'DB_QUERY_FAILED',
      status: 502,
      retryable: true,
      message: 'Query failed',
    });
    expect(error).toMatchObject({
      code: 'DB_QUERY_FAILED',
      status: 502,
      retryable: true,
      message: 'Query failed',
    });
    expect((error.cause as Error).message).toBe('raw');
    const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
    expect(ProdError.from(refused, { code: 'DB_QUERY_FAILED' }).code).toBe('UNAVAILABLE');
  });

  it('survives hostile values whose properties throw', () => {
    const getterBomb = {
      get message(): string {
        throw new Error('gotcha');
      },
    };
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const thrown of [getterBomb, proxy, Object.create(null)]) {
      const error = ProdError.from(thrown);
      expect(error.code).toBe('INTERNAL');
      expect(() => JSON.stringify(error)).not.toThrow();
    }
  });
});

describe('toJSON', () => {
  it('keeps name, code, status, details, errors and stack', () => {
    const error = new ProdError({
      code: 'X_Y',
      status: 422,
      details: { field: 'a' },
      errors: [{ path: '/a', message: 'required' }],
    });
    const json = error.toJSON();
    expect(json).toMatchObject({
      name: 'ProdError',
      code: 'X_Y',
      status: 422,
      retryable: false,
      details: { field: 'a' },
      errors: [{ path: '/a', message: 'required' }],
    });
    expect(json.stack).toBe(error.stack);
  });

  it('serializes a 3-deep cause chain through JSON.stringify', () => {
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const middle = new Error('query failed', { cause: root });
    const top = new ProdError({ code: 'DB_FAILED', message: 'could not save', cause: middle });
    const parsed = JSON.parse(JSON.stringify(top));
    expect(parsed.code).toBe('DB_FAILED');
    expect(parsed.stack).toContain('could not save');
    expect(parsed.cause.message).toBe('query failed');
    expect(parsed.cause.name).toBe('Error');
    expect(parsed.cause.stack).toContain('query failed');
    expect(parsed.cause.cause.message).toBe('socket hang up');
    expect(parsed.cause.cause.code).toBe('ECONNRESET');
    expect(parsed.cause.cause.cause).toBeUndefined();
  });

  it('describes a non-Error cause', () => {
    expect(new ProdError({ code: 'X', cause: 'text' }).toJSON().cause).toEqual({
      name: 'string',
      message: 'text',
    });
    expect(new ProdError({ code: 'X', cause: { a: 1 } }).toJSON().cause).toEqual({
      name: 'object',
      message: '{"a":1}',
    });
  });

  it('terminates on a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const top = new ProdError({ code: 'CYCLE', cause: a });
    const json = top.toJSON();
    expect(json.cause?.message).toBe('a');
    expect(json.cause?.cause?.message).toBe('b');
    expect(json.cause?.cause?.cause).toBeUndefined();
    const self = new Error('self');
    (self as { cause?: unknown }).cause = self;
    expect(new ProdError({ code: 'SELF', cause: self }).toJSON().cause?.cause).toBeUndefined();
  });

  it('bounds a huge cause chain', () => {
    let chain: Error = new Error('level 0');
    for (let i = 1; i < 10_000; i++) chain = new Error(`level ${i}`, { cause: chain });
    const json = new ProdError({ code: 'DEEP', cause: chain }).toJSON();
    let depth = 0;
    for (let node = json.cause; node !== undefined; node = node.cause) depth++;
    expect(depth).toBeGreaterThan(3);
    expect(depth).toBeLessThanOrEqual(10);
    expect(() => JSON.stringify(json)).not.toThrow();
  });

  it('does not throw on a cause that neither JSON nor String can render', () => {
    const cyclicBare = Object.create(null) as Record<string, unknown>;
    cyclicBare.self = cyclicBare;
    const json = new ProdError({ code: 'X', cause: cyclicBare }).toJSON();
    expect(json.cause).toEqual({ name: 'object', message: '[unserializable]' });
  });

  it('does not throw on a cyclic plain-object cause', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const json = new ProdError({ code: 'X', cause: cyclic }).toJSON();
    expect(json.cause?.name).toBe('object');
  });
});

describe('toProblem', () => {
  it('gives only the generic fields of a 5xx: no detail, details, errors, stack or cause', () => {
    const error = new ProdError({
      code: 'DB_FAILED',
      status: 500,
      title: 'Database failed',
      message: 'password authentication failed for user "admin"',
      details: { connectionString: 'postgres://admin:secret@db' },
      errors: [{ path: '/x', message: 'internal' }],
      cause: new Error('secret cause'),
    });
    const problem = error.toProblem();
    expect(problem).toStrictEqual({
      type: 'urn:prod:problem:DB_FAILED',
      title: 'Database failed',
      status: 500,
      code: 'DB_FAILED',
    });
    const text = JSON.stringify(problem);
    expect(text).not.toContain('secret');
    expect(text).not.toContain('admin');
    expect(text).not.toContain('stack');
  });

  it('gives detail, details and field errors of a 4xx', () => {
    const error = new ProdError({
      code: 'VALIDATION_FAILED',
      status: 422,
      title: 'Validation failed',
      message: 'title is required',
      details: { limit: 100 },
      errors: [
        { path: '/body/title', message: 'Required', code: 'invalid_type' },
        { path: '/body/tags/0', message: 'Too long' },
      ],
    });
    expect(error.toProblem()).toStrictEqual({
      type: 'urn:prod:problem:VALIDATION_FAILED',
      title: 'Validation failed',
      status: 422,
      code: 'VALIDATION_FAILED',
      detail: 'title is required',
      details: { limit: 100 },
      errors: [
        { path: '/body/title', message: 'Required', code: 'invalid_type' },
        { path: '/body/tags/0', message: 'Too long' },
      ],
    });
  });

  it('leaves out detail when the message is just the title', () => {
    expect(CoreErrors.NOT_FOUND().toProblem()).not.toHaveProperty('detail');
  });

  it('names the occurrence from the request id and carries the trace id', () => {
    const problem = CoreErrors.NOT_FOUND('No note 42').toProblem({
      requestId: 'req-1',
      traceId: 'abc123',
    });
    expect(problem.instance).toBe('urn:request:req-1');
    expect(problem.requestId).toBe('req-1');
    expect(problem.traceId).toBe('abc123');
    expect(
      CoreErrors.NOT_FOUND().toProblem({ requestId: 'r', instance: '/notes/42' }).instance,
    ).toBe('/notes/42');
    expect(CoreErrors.NOT_FOUND().toProblem()).not.toHaveProperty('instance');
  });

  it('turns retryAfterMs into whole seconds, rounded up', () => {
    expect(CoreErrors.RATE_LIMITED({ retryAfterMs: 1500 }).toProblem().retryAfter).toBe(2);
    expect(CoreErrors.RATE_LIMITED({ retryAfterMs: 3000 }).toProblem().retryAfter).toBe(3);
    expect(CoreErrors.RATE_LIMITED({ retryAfterMs: 1 }).toProblem().retryAfter).toBe(1);
    expect(CoreErrors.RATE_LIMITED().toProblem()).not.toHaveProperty('retryAfter');
  });

  it('never gives a retryAfter that is negative or not a number', () => {
    expect(CoreErrors.RATE_LIMITED({ retryAfterMs: -5000 }).toProblem().retryAfter).toBe(0);
    expect(CoreErrors.RATE_LIMITED({ retryAfterMs: Number.NaN }).toProblem()).not.toHaveProperty(
      'retryAfter',
    );
  });

  it('uses a custom type URI, and is JSON without a stack', () => {
    const error = new ProdError({ code: 'X', status: 400, type: 'https://errors.example/x' });
    const text = JSON.stringify(error.toProblem({ requestId: 'r1' }));
    expect(JSON.parse(text).type).toBe('https://errors.example/x');
    expect(text).not.toContain('stack');
    expect(text).not.toContain('cause');
  });

  it('shows the message of a 5xx only when expose is forced', () => {
    const error = new ProdError({ code: 'X', status: 503, message: 'try later', expose: true });
    expect(error.toProblem().detail).toBe('try later');
  });

  it('exports the problem media type', () => {
    expect(PROBLEM_CONTENT_TYPE).toBe('application/problem+json');
  });
});

describe('ProdError status guard', () => {
  it('turns a status outside 400-599 into 500', () => {
    for (const status of [42, 200, 302, 600, 404.5, Number.NaN]) {
      expect(new ProdError({ code: 'X', status }).status).toBe(500);
    }
    expect(new ProdError({ code: 'X', status: 418 }).status).toBe(418);
  });
});
