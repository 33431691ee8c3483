import type { ProdError, Result } from '@prod/core';
import {
  defineRoute,
  type InferInput,
  type InferReply,
  type PathParams,
  pipeline,
  problemResponse,
  type ValidationError,
  validate,
} from '@prod/validation';
import { describe, expectTypeOf, it } from 'vitest';
import * as z from 'zod';

const Note = z.object({ id: z.string(), title: z.string(), createdAt: z.date() });

describe('defineRoute types', () => {
  it('types the handler input from the schemas (outputs: transforms, defaults, coercion)', () => {
    defineRoute({
      method: 'POST',
      path: '/notes/:id',
      request: {
        params: z.object({ id: z.uuid() }),
        query: z.object({ limit: z.number().default(10), tags: z.array(z.string()).optional() }),
        headers: z.object({ 'x-tenant': z.string() }),
        body: z.object({ title: z.string().transform((t) => t.length) }),
      },
      responses: { 201: Note },
      handler: (input) => {
        expectTypeOf(input.params).toEqualTypeOf<{ id: string }>();
        expectTypeOf(input.query).toEqualTypeOf<{ limit: number; tags?: string[] | undefined }>();
        expectTypeOf(input.headers).toEqualTypeOf<{ 'x-tenant': string }>();
        expectTypeOf(input.body).toEqualTypeOf<{ title: number }>();
        expectTypeOf(input.version).toEqualTypeOf<string | undefined>();
        return { status: 201, body: { id: '1', title: 't', createdAt: new Date() } };
      },
    });
  });

  it('without a params schema, params come from the path template', () => {
    expectTypeOf<PathParams<'/a/:org/b/:repo'>>().toEqualTypeOf<{
      readonly org: string;
      readonly repo: string;
    }>();
    defineRoute({
      method: 'GET',
      path: '/orgs/:org/repos/:repo',
      responses: { 204: null },
      handler: ({ params, body }) => {
        expectTypeOf(params).toEqualTypeOf<{ readonly org: string; readonly repo: string }>();
        expectTypeOf(body).toEqualTypeOf<undefined>();
        return { status: 204 };
      },
    });
  });

  it('only declared statuses, each with its body type', () => {
    const route = defineRoute({
      method: 'GET',
      path: '/notes/:id',
      responses: { 200: Note, 204: null, 404: problemResponse() },
      handler: () => ({ status: 204 }),
    });
    type Reply = InferReply<typeof route>;
    expectTypeOf<Extract<Reply, { status: 200 }>['body']>().toEqualTypeOf<{
      id: string;
      title: string;
      createdAt: Date;
    }>();
    expectTypeOf<Extract<Reply, { status: 204 }>['body']>().toEqualTypeOf<undefined>();
    expectTypeOf<InferInput<typeof route>['params']>().toEqualTypeOf<{ readonly id: string }>();

    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: Note },
      // @ts-expect-error: 201 is not declared
      handler: () => ({ status: 201, body: { id: '1', title: 't', createdAt: new Date() } }),
    });
    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: Note },
      // @ts-expect-error: title must be a string
      handler: () => ({ status: 200, body: { id: '1', title: 2, createdAt: new Date() } }),
    });
    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: Note },
      handler: async () => ({
        ok: true as const,
        value: { status: 200 as const, body: { id: '1', title: 't', createdAt: new Date() } },
      }),
    });
  });
});

describe('handlers without parameters', () => {
  it('keep literal statuses (no widening to number)', () => {
    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: Note, 204: null },
      handler: () => ({ status: 204 }),
    });
    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: Note },
      handler: async () => ({ status: 200, body: { id: '1', title: 't', createdAt: new Date() } }),
    });
    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 200: Note },
      // @ts-expect-error: 204 is not declared
      handler: () => ({ status: 204 }),
    });
    defineRoute({
      method: 'GET',
      path: '/x',
      responses: { 299: z.object({ odd: z.boolean() }) },
      handler: (_input) => ({ status: 299, body: { odd: true } }),
    });
  });
});

describe('reply()', () => {
  it('builds one of the declared answers, typed by its status', () => {
    defineRoute({
      method: 'POST',
      path: '/notes',
      responses: { 201: Note, 204: null },
      handler: ({ reply }) => {
        expectTypeOf(reply(204)).toEqualTypeOf<{
          readonly status: 204;
          readonly body?: undefined;
          readonly headers?: Readonly<Record<string, string | readonly string[]>>;
        }>();
        return reply(201, { id: '1', title: 't', createdAt: new Date() }, { location: '/notes/1' });
      },
    });
    defineRoute({
      method: 'POST',
      path: '/notes',
      responses: { 201: Note },
      // @ts-expect-error: 200 is not declared
      handler: ({ reply }) => reply(200, { id: '1', title: 't', createdAt: new Date() }),
    });
  });
});

describe('validate and pipeline types', () => {
  it('validate returns the schema output or a ValidationError', () => {
    const result = validate(z.object({ n: z.coerce.number() }), {});
    expectTypeOf(result).toEqualTypeOf<Result<{ n: number }, ValidationError>>();
    if (!result.ok)
      expectTypeOf(result.error.code).toEqualTypeOf<
        'VALIDATION_INVALID_INPUT' | 'VALIDATION_UNSAFE_INPUT'
      >();
  });

  it('each pipeline step types the next', () => {
    const run = pipeline(z.object({ name: z.string() }))
      .pipe((user) => ({ ...user, length: user.name.length }))
      .pipe((user) => user.length > 3)
      .run({ name: 'Ada' });
    expectTypeOf(run).toEqualTypeOf<Result<boolean, ProdError>>();
  });
});
