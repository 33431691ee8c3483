import type { Span } from '@opentelemetry/api';
import { type AsyncResult, ok, type ProdError, type Result } from '@prod/core';
import { injectTraceHeaders, traced, withSpan } from '@prod/tracing';
import { describe, expectTypeOf, it } from 'vitest';

declare function load(id: string): AsyncResult<{ id: string }>;

describe('types', () => {
  it('withSpan returns exactly what fn returns', () => {
    expectTypeOf(withSpan('a', () => ok(1))).toEqualTypeOf<ReturnType<typeof ok<number>>>();
    expectTypeOf(withSpan('b', () => load('1'))).toEqualTypeOf<AsyncResult<{ id: string }>>();
    expectTypeOf(withSpan('c', (span) => span)).toEqualTypeOf<Span>();
  });

  it('traced keeps the parameters and the return type', () => {
    const wrapped = traced('load', load, { attributes: (id) => ({ id }) });
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[string]>();
    expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<Result<{ id: string }, ProdError>>>();
    // @ts-expect-error the attribute callback receives the real parameter types
    traced('load', load, { attributes: (id: number) => ({ id }) });
  });

  it('injectTraceHeaders returns the type it was given', () => {
    expectTypeOf(injectTraceHeaders({ accept: 'x' })).toEqualTypeOf<{ accept: string }>();
    expectTypeOf(injectTraceHeaders(new Headers())).toEqualTypeOf<Headers>();
    expectTypeOf(injectTraceHeaders()).toEqualTypeOf<Record<string, string>>();
  });
});
