// The conformance cases of the rate-limit part: the same cases over real HTTP on Express 5,
// Fastify 5 and Koa 3, mounted with the three @prod adapters. Header values are parsed with a
// strict RFC 9651 parser (structured-headers) and checked against the draft's syntax.
import { definePart, json, type Part } from '@prod/core';
import { prodExpress } from '@prod/express';
import { fastifyServerOptions, prodFastify } from '@prod/fastify';
import { prodKoa } from '@prod/koa';
import {
  createRateLimiter,
  QUOTA_EXCEEDED,
  rateLimitPart,
  rateLimitPolicy,
  TEMPORARY_REDUCED_CAPACITY,
} from '@prod/ratelimit';
import { listen } from '@prod/testing';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { parseList } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Booted {
  readonly url: string;
  close(): Promise<void>;
}
type Boot = (parts: Part[]) => Promise<Booted>;

const NATIVE = '/native';

const boots: Record<string, Boot> = {
  'Express 5': async (parts) => {
    const app = express();
    const prod = prodExpress({ parts });
    app.use(prod.handler);
    app.get(NATIVE, (_req, res) => {
      res.json({ native: true });
    });
    app.use(prod.finalHandler);
    return listen(app);
  },
  'Fastify 5': async (parts) => {
    const app = Fastify({ ...fastifyServerOptions() });
    await app.register(prodFastify, { parts });
    app.get(NATIVE, async () => ({ native: true }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  'Koa 3': async (parts) => {
    const app = new Koa();
    app.use(prodKoa({ parts }));
    app.use(async (ctx, next) => {
      if (ctx.path === NATIVE) ctx.body = { native: true };
      else await next();
    });
    return listen(app.callback());
  },
};

/** A strict reading of one RateLimit-Policy or RateLimit field: a List of String items with Integer parameters. */
function parseField(
  value: string | null,
  required: readonly string[],
): Map<string, Record<string, unknown>> {
  expect(value, 'the field is present').not.toBeNull();
  const items = parseList(value as string);
  const out = new Map<string, Record<string, unknown>>();
  for (const [bare, params] of items) {
    expect(typeof bare, 'the item is a String (draft-11: the policy name MUST be a String)').toBe(
      'string',
    );
    const record = Object.fromEntries(params as Map<string, unknown>);
    for (const key of required) {
      expect(Number.isInteger(record[key]), `${key} is an Integer`).toBe(true);
      expect(record[key] as number).toBeGreaterThanOrEqual(0);
    }
    if ('qu' in record) expect(typeof record.qu).toBe('string');
    expect(out.has(bare as string), 'policy names are unique').toBe(false);
    out.set(bare as string, record);
  }
  return out;
}

let slowRelease: (() => void) | undefined;
let busy = false;
const limiter = createRateLimiter({
  policies: [{ name: 'per-minute', limit: 3, window: 60_000, key: 'api-key' }],
  pressure: { signal: () => busy, reduceTo: 0.5, interval: 60_000 },
});
const pressured = createRateLimiter({
  name: 'pressured',
  policies: [
    { name: 'pressured', limit: 4, window: 60_000, key: 'api-key', algorithm: 'sliding-window' },
  ],
  pressure: { signal: () => busy, reduceTo: 0.5, interval: 60_000 },
});

const notes = definePart({
  name: 'notes',
  routes: [
    { method: 'GET', path: '/v1/notes', handler: () => json(200, []) },
    {
      method: 'POST',
      path: '/v1/notes',
      meta: rateLimitPolicy({
        policies: [
          {
            name: 'notes-write',
            limit: 10,
            window: 60_000,
            key: 'api-key',
            algorithm: 'token-bucket',
          },
        ],
        cost: 2,
      }),
      handler: () => json(201, { id: '1' }),
    },
    {
      method: 'GET',
      path: '/health',
      meta: rateLimitPolicy({ skip: true }),
      handler: () => json(200, { ok: true }),
    },
    {
      method: 'GET',
      path: '/slow',
      meta: rateLimitPolicy({
        replace: true,
        policies: [{ name: 'in-flight', limit: 1, algorithm: 'concurrency', key: 'api-key' }],
      }),
      handler: () =>
        new Promise((resolve) => {
          slowRelease = () => resolve(json(200, { slow: true }));
        }),
    },
    { method: 'GET', path: '/pressured', handler: () => json(200, {}) },
  ],
});

let counter = 0;
const freshKey = (): string => {
  counter += 1;
  return `key-${process.pid}-${counter}`;
};

afterAll(async () => {
  await limiter.close();
  await pressured.close();
});

for (const [framework, boot] of Object.entries(boots)) {
  describe(`rateLimitPart on ${framework}`, () => {
    let server: Booted;
    let legacy: Booted;
    let lists: Booted;
    let underPressure: Booted;
    beforeAll(async () => {
      server = await boot([rateLimitPart(limiter), notes]);
      legacy = await boot([rateLimitPart(limiter, { headers: 'legacy' }), notes]);
      lists = await boot([
        rateLimitPart(limiter, {
          allow: [(request) => request.headers['x-api-key'] === 'trusted'],
          deny: ['127.0.0.0/8'],
        }),
        notes,
      ]);
      underPressure = await boot([rateLimitPart(pressured), notes]);
    });
    afterAll(async () => {
      for (const one of [server, legacy, lists, underPressure]) await one?.close();
    });

    const get = (base: Booted, path: string, key: string, init: RequestInit = {}) =>
      fetch(`${base.url}${path}`, {
        ...init,
        headers: { 'x-api-key': key, ...(init.headers ?? {}) },
      });

    it('a 2xx carries RateLimit-Policy and RateLimit that parse per the draft', async () => {
      const response = await get(server, '/v1/notes', freshKey());
      expect(response.status).toBe(200);
      const policy = parseField(response.headers.get('ratelimit-policy'), ['q', 'w']);
      const state = parseField(response.headers.get('ratelimit'), ['r', 't']);
      expect(policy.get('per-minute')).toEqual({ q: 3, w: 60 });
      expect(state.get('per-minute')).toMatchObject({ r: 2 });
      expect(state.get('per-minute')?.t as number).toBeLessThanOrEqual(60);
      expect(response.headers.get('retry-after')).toBeNull();
      expect(await response.json()).toEqual([]);
    });

    it('over the limit: 429 problem+json, quota-exceeded, violated-policies, Retry-After >= t', async () => {
      const key = freshKey();
      for (let i = 0; i < 3; i += 1) expect((await get(server, '/v1/notes', key)).status).toBe(200);
      const response = await get(server, '/v1/notes', key);
      expect(response.status).toBe(429);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        type: QUOTA_EXCEEDED,
        status: 429,
        code: 'RATELIMIT_EXCEEDED',
        'violated-policies': ['per-minute'],
      });
      expect(typeof body.requestId).toBe('string');
      const retryAfter = Number(response.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter > 0).toBe(true);
      const state = parseField(response.headers.get('ratelimit'), ['r', 't']).get('per-minute');
      expect(state?.r).toBe(0);
      expect(retryAfter).toBeGreaterThanOrEqual(state?.t as number);
      expect(body.retryAfter).toBe(retryAfter);
    });

    it('route metadata adds a policy and a cost; both policies are in the headers', async () => {
      const key = freshKey();
      const response = await get(server, '/v1/notes', key, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(201);
      const policy = parseField(response.headers.get('ratelimit-policy'), ['q', 'w']);
      expect([...policy.keys()]).toEqual(['per-minute', 'notes-write']);
      const state = parseField(response.headers.get('ratelimit'), ['r', 't']);
      expect(state.get('per-minute')?.r).toBe(1); // cost 2 of 3
      expect(state.get('notes-write')?.r).toBe(8);
      const again = await get(server, '/v1/notes', key, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(again.status).toBe(429);
      expect(((await again.json()) as Record<string, unknown>)['violated-policies']).toEqual([
        'per-minute',
      ]);
    });

    it('a skipped route has no headers; a framework route and a 404 are limited too', async () => {
      const key = freshKey();
      const health = await get(server, '/health', key);
      expect(health.headers.get('ratelimit')).toBeNull();
      const native = await get(server, NATIVE, key);
      expect(native.status).toBe(200);
      expect(parseField(native.headers.get('ratelimit'), ['r', 't']).get('per-minute')?.r).toBe(2);
      const missing = await get(server, '/nowhere', key);
      expect(missing.status).toBe(404);
      expect(parseField(missing.headers.get('ratelimit'), ['r', 't']).get('per-minute')?.r).toBe(1);
    });

    it('a request without the key the policy reads is not limited by it', async () => {
      const response = await fetch(`${server.url}/v1/notes`);
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit')).toBeNull();
    });

    it('the legacy X-RateLimit-* trio on request', async () => {
      const response = await get(legacy, '/v1/notes', freshKey());
      expect(response.headers.get('ratelimit')).toBeNull();
      expect(response.headers.get('x-ratelimit-limit')).toBe('3');
      expect(response.headers.get('x-ratelimit-remaining')).toBe('2');
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      expect(reset).toBeGreaterThan(Date.now() / 1000);
      expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 61);
    });

    it('the allow list skips limiting; the deny list answers 403 before counting', async () => {
      const trusted = await get(lists, '/v1/notes', 'trusted');
      expect(trusted.status).toBe(200);
      expect(trusted.headers.get('ratelimit')).toBeNull();
      const denied = await get(lists, '/v1/notes', freshKey());
      expect(denied.status).toBe(403);
      expect(((await denied.json()) as { code: string }).code).toBe('RATELIMIT_DENIED');
    });

    it('a concurrency slot is held while the response is in flight and released when it ends', async () => {
      const key = freshKey();
      const first = get(server, '/slow', key);
      while (slowRelease === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await get(server, '/slow', key);
      expect(second.status).toBe(429);
      const policy = parseField(second.headers.get('ratelimit-policy'), ['q']);
      expect(policy.get('in-flight')).toEqual({ q: 1, qu: 'concurrent-requests' });
      const release = slowRelease;
      slowRelease = undefined;
      release();
      expect((await first).status).toBe(200);
      // onResponse has run once the client has the whole answer; give the adapter a tick
      await new Promise((resolve) => setTimeout(resolve, 20));
      const third = get(server, '/slow', key);
      while (slowRelease === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      (slowRelease as () => void)();
      slowRelease = undefined;
      expect((await third).status).toBe(200);
    });

    it('under pressure: 503 temporary-reduced-capacity with a lowered RateLimit-Policy, then recovery', async () => {
      const key = freshKey();
      for (let i = 0; i < 2; i += 1)
        expect((await get(underPressure, '/pressured', key)).status).toBe(200);
      busy = true;
      pressured.samplePressure();
      try {
        const response = await get(underPressure, '/pressured', key);
        expect(response.status).toBe(503);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toMatchObject({
          type: TEMPORARY_REDUCED_CAPACITY,
          'violated-policies': ['pressured'],
        });
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(
          parseField(response.headers.get('ratelimit-policy'), ['q', 'w']).get('pressured')?.q,
        ).toBe(2);
      } finally {
        busy = false;
        pressured.samplePressure();
      }
      expect((await get(underPressure, '/pressured', key)).status).toBe(200);
    });
  });
}
