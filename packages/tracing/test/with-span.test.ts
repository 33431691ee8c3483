import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  currentContext,
  err,
  ok,
  ProdError,
  type RequestContext,
  runWithContext,
} from '@prod/core';
import { withSpan } from '@prod/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { idsOf, installSdk, type TestSdk } from './sdk.js';

let sdk: TestSdk;
beforeAll(() => {
  sdk = installSdk();
});
afterAll(async () => {
  await sdk.uninstall();
});
beforeEach(() => {
  sdk.exporter.reset();
});

const notFound = (): ProdError => new ProdError({ code: 'NOTE_NOT_FOUND', status: 404 });
const unavailable = (): ProdError =>
  new ProdError({ code: 'STORE_UNAVAILABLE', status: 503, message: 'store down' });

describe('withSpan with the SDK', () => {
  it('records a span with the name, kind, attributes and scope, and returns the value as is', () => {
    const value = ok({ id: 1 });
    const returned = withSpan('notes.load', () => value, {
      kind: SpanKind.CLIENT,
      attributes: { 'note.id': 1 },
    });
    expect(returned).toBe(value);
    const span = sdk.span('notes.load');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({ 'note.id': 1 });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
    expect(span.instrumentationScope.name).toBe('@prod/tracing');
    expect(span.ended).toBe(true);
  });

  it('hands the live span to fn and makes it the active span', () => {
    withSpan('outer', (span) => {
      span.setAttribute('set.inside', true);
      expect(trace.getActiveSpan()).toBe(span);
      expect(span.isRecording()).toBe(true);
    });
    expect(sdk.span('outer').attributes['set.inside']).toBe(true);
  });

  it('nests: an inner span is the child of the outer one, in the same trace', async () => {
    await withSpan('parent', async () => {
      await withSpan('child', async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        withSpan('grandchild', () => undefined);
      });
    });
    const parent = sdk.span('parent');
    const child = sdk.span('child');
    const grandchild = sdk.span('grandchild');
    expect(parent.parentSpanContext).toBeUndefined();
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(grandchild.parentSpanContext?.spanId).toBe(child.spanContext().spanId);
    expect(new Set([parent, child, grandchild].map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('starts a new trace with root: true', () => {
    withSpan('a', () => withSpan('b', () => undefined, { root: true }));
    expect(sdk.span('b').parentSpanContext).toBeUndefined();
    expect(sdk.span('b').spanContext().traceId).not.toBe(sdk.span('a').spanContext().traceId);
  });

  it('uses the tracer it is given', () => {
    const tracer = sdk.provider.getTracer('custom-scope');
    withSpan('scoped', () => undefined, { tracer });
    expect(sdk.span('scoped').instrumentationScope.name).toBe('custom-scope');
  });
});

describe('withSpan and Results', () => {
  it('records a 5xx ProdError: status ERROR with the code, exception event, error.type', () => {
    const failure = err(unavailable());
    expect(withSpan('store.get', () => failure)).toBe(failure);
    const span = sdk.span('store.get');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'STORE_UNAVAILABLE' });
    expect(span.attributes['error.type']).toBe('STORE_UNAVAILABLE');
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(span.events[0]?.attributes?.['exception.message']).toBe('store down');
  });

  it('leaves an expected 4xx ProdError on an INTERNAL span UNSET, with error.type only', () => {
    withSpan('notes.find', () => err(notFound()));
    const span = sdk.span('notes.find');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['error.type']).toBe('NOTE_NOT_FOUND');
    expect(span.events).toEqual([]);
  });

  it('counts a 4xx ProdError as a failure on a CLIENT span (HTTP client conventions)', () => {
    withSpan('upstream.get', () => err(notFound()), { kind: SpanKind.CLIENT });
    expect(sdk.span('upstream.get').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('lets isError decide both ways', () => {
    withSpan('strict', () => err(notFound()), { isError: () => true });
    withSpan('lenient', () => err(unavailable()), { isError: () => false });
    expect(sdk.span('strict').status.code).toBe(SpanStatusCode.ERROR);
    expect(sdk.span('lenient').status.code).toBe(SpanStatusCode.UNSET);
    expect(sdk.span('lenient').attributes['error.type']).toBe('STORE_UNAVAILABLE');
  });

  it('records an Err that is not a ProdError as a failure', () => {
    withSpan('typed', () => err(new RangeError('out of range')));
    withSpan('plain', () => err('nope'));
    expect(sdk.span('typed').attributes['error.type']).toBe('RangeError');
    expect(sdk.span('typed').status.code).toBe(SpanStatusCode.ERROR);
    expect(sdk.span('plain').attributes['error.type']).toBe('_OTHER');
    expect(sdk.span('plain').status).toEqual({ code: SpanStatusCode.ERROR, message: 'nope' });
  });

  it('waits for a promised Result and ends the span only when it settles', async () => {
    let resolve: (value: unknown) => void = () => undefined;
    const pending = withSpan('slow', () =>
      new Promise((r) => {
        resolve = r;
      }).then(() => err(unavailable())),
    );
    await Promise.resolve();
    expect(sdk.spans()).toEqual([]);
    resolve(undefined);
    const result = await pending;
    expect(result.ok).toBe(false);
    expect(sdk.span('slow').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('treats non-Result values as success', () => {
    expect(withSpan('plain.value', () => 42)).toBe(42);
    expect(withSpan('object', () => ({ ok: false }))).toEqual({ ok: false });
    expect(sdk.span('object').status.code).toBe(SpanStatusCode.UNSET);
  });

  it('ends the span at return for a thenable that is not a native promise', () => {
    // biome-ignore lint/suspicious/noThenProperty: the point of the test is a non-promise thenable
    const thenable = { then: (): void => undefined };
    expect(withSpan('builder', () => thenable)).toBe(thenable);
    expect(sdk.span('builder').ended).toBe(true);
  });
});

describe('withSpan and throws', () => {
  it('records a thrown error as ERROR and rethrows the same object', () => {
    const bug = new TypeError('x is undefined');
    expect(() =>
      withSpan('buggy', () => {
        throw bug;
      }),
    ).toThrow(bug);
    const span = sdk.span('buggy');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'x is undefined' });
    expect(span.attributes['error.type']).toBe('TypeError');
    expect(span.events[0]?.attributes?.['exception.type']).toBe('TypeError');
  });

  it('records a thrown 4xx ProdError as ERROR: throwing is for bugs', () => {
    expect(() =>
      withSpan('thrown.404', () => {
        throw notFound();
      }),
    ).toThrow(ProdError);
    expect(sdk.span('thrown.404').status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'NOTE_NOT_FOUND',
    });
  });

  it('records a rejection and rejects with the same reason', async () => {
    const reason = new Error('boom');
    await expect(withSpan('rejects', async () => Promise.reject(reason))).rejects.toBe(reason);
    expect(sdk.span('rejects').status.code).toBe(SpanStatusCode.ERROR);
    expect(sdk.span('rejects').ended).toBe(true);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'bad'],
    ['a number', 7],
    [
      'a circular object',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
    ],
  ])('survives throwing %s', (_label, value) => {
    let caught: unknown = Symbol('not thrown');
    try {
      withSpan('odd.throw', () => {
        throw value;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(value);
    const span = sdk.span('odd.throw');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('_OTHER');
  });

  it('rethrows a hostile thrown object whose every property access throws', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    let caught: unknown;
    try {
      withSpan('hostile', () => {
        throw hostile;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(hostile);
    expect(sdk.span('hostile').ended).toBe(true);
  });
});

describe('withSpan and the @prod/core request context', () => {
  it('exposes the span ids on a copy of the context with the same logger and extensions', () => {
    const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const extensions = new Map<symbol, unknown>();
    const request: RequestContext = { requestId: 'r1', logger, extensions, route: '/x' };
    let seen: RequestContext | undefined;
    let ids: { traceId: string; spanId: string } | undefined;
    runWithContext(request, () => {
      withSpan('with.ctx', (span) => {
        seen = currentContext();
        ids = idsOf(span);
      });
      expect(currentContext()).toBe(request);
    });
    expect(seen).not.toBe(request);
    expect(seen?.requestId).toBe('r1');
    expect(seen?.route).toBe('/x');
    expect(seen?.logger).toBe(logger);
    expect(seen?.extensions).toBe(extensions);
    expect(seen?.traceId).toBe(ids?.traceId);
    expect(seen?.spanId).toBe(ids?.spanId);
    expect(request.traceId).toBeUndefined();
  });

  it('gives each of two concurrent spans its own ids', async () => {
    const seen: Record<string, string | undefined> = {};
    const spanIds: Record<string, string> = {};
    await runWithContext({ requestId: 'r2' }, () =>
      Promise.all(
        ['a', 'b'].map((name) =>
          withSpan(name, async (span) => {
            spanIds[name] = span.spanContext().spanId;
            await new Promise((resolve) => setTimeout(resolve, name === 'a' ? 5 : 1));
            seen[name] = currentContext()?.spanId;
          }),
        ),
      ),
    );
    expect(seen.a).toBe(spanIds.a);
    expect(seen.b).toBe(spanIds.b);
    expect(seen.a).not.toBe(seen.b);
  });

  it('creates a context outside any request, identified by the trace id', () => {
    expect(currentContext()).toBeUndefined();
    let seen: RequestContext | undefined;
    let traceId = '';
    withSpan('job.step', (span) => {
      seen = currentContext();
      traceId = span.spanContext().traceId;
    });
    expect(seen?.requestId).toBe(traceId);
    expect(seen?.traceId).toBe(traceId);
    expect(seen?.extensions).toBeInstanceOf(Map);
    expect(currentContext()).toBeUndefined();
  });
});
