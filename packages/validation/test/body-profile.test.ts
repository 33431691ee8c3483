import { bodyProfileOf, type HttpRequest, isProdError, recordBodyProfile } from '@prod/core';
import { inspectBody } from '@prod/core/adapter';
import { fakeRequest } from '@prod/testing';
import { defineRoute, type SanitizeOptions, sanitized } from '@prod/validation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { jsonLike } from './fixtures/json-like.js';

// A route's body walk (sanitize + limits) is skipped when the adapter's profile of the body
// shows it would change and refuse nothing. These tests hold the route to the same answers
// with and without a profile, and show that the profile is what decides.

const echoRoute = (sanitize: SanitizeOptions | false | undefined, body: z.ZodType = z.unknown()) =>
  defineRoute({
    method: 'POST',
    path: '/echo',
    ...(sanitize === undefined ? {} : { sanitize }),
    request: { body },
    responses: { 200: z.unknown() },
    handler: (input) => ({ status: 200, body: { echoed: input.body } }),
  });

const routes = {
  defaults: echoRoute(undefined),
  tightLimits: echoRoute({ limits: { maxDepth: 2, maxKeys: 4, maxItems: 2, maxStringLength: 6 } }),
  limitsOnly: echoRoute(false),
  trimEverywhere: echoRoute({ strings: ['trim'] }),
  fieldSteps: echoRoute(
    undefined,
    z.looseObject({ name: sanitized(z.string(), ['trim', 'stripHtml']).optional() }),
  ),
};

/** The answer of `route` to `request`: its status and body, or the error's code and fields. */
function answer(route: (typeof routes)[keyof typeof routes], request: HttpRequest): unknown {
  try {
    const response = route.handler(request) as { status: number; body: unknown };
    return { status: response.status, body: response.body };
  } catch (error) {
    if (!isProdError(error)) throw error;
    return { code: error.code, errors: error.errors };
  }
}

const withoutProfile = (body: unknown): HttpRequest => ({
  ...fakeRequest({ method: 'POST', path: '/echo' }),
  body,
});

const adaptersRefuse = (body: unknown): boolean => {
  try {
    inspectBody(body);
    return false;
  } catch {
    return true;
  }
};

const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(' padded ', 'a\u200bb', 'e\u0301', 'bell\u0007', 'Zoë', '<b>x</b>', 'tab\tok'),
);
const key = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.constantFrom('name', 'constructor', 'prototype', 'toString'),
);
const json = jsonLike(text, key);

describe('a route with the adapter\u2019s body profile', () => {
  it('answers every body exactly as the full walk does, for every sanitization setting', () => {
    fc.assert(
      fc.property(json, (body) => {
        const profiled = fakeRequest({ method: 'POST', path: '/echo', body });
        // Profiled unless the adapters would have refused it (FORBIDDEN_KEY).
        expect(bodyProfileOf(profiled) === undefined).toBe(adaptersRefuse(body));
        for (const [name, route] of Object.entries(routes)) {
          expect(answer(route, profiled), name).toEqual(answer(route, withoutProfile(body)));
        }
      }),
      { numRuns: 600 },
    );
  });

  it('is what decides: a profile that wrongly claims plain text skips the walk', () => {
    const body = { name: 'bell\u0007' };
    const request = withoutProfile(body);
    expect(answer(routes.defaults, request)).toEqual({
      status: 200,
      body: { echoed: { name: 'bell' } },
    });
    // Only the adapters (and fakeRequest) record profiles, from the body they checked.
    recordBodyProfile(request, { ...inspectBody(body), plainText: true });
    expect(answer(routes.defaults, request)).toEqual({
      status: 200,
      body: { echoed: { name: 'bell\u0007' } },
    });
    // Field steps other than the Unicode ones always walk.
    expect(answer(routes.fieldSteps, { ...request, body: { name: ' <b>x</b> ' } })).toEqual({
      status: 200,
      body: { echoed: { name: 'x' } },
    });
  });

  it('walks a body that is not the one profiled (replaced after the check)', () => {
    const request = fakeRequest({ method: 'POST', path: '/echo', body: { name: 'plain' } });
    const replaced = { ...request, body: { name: 'zero\u200bwidth' } };
    expect(answer(routes.defaults, replaced)).toEqual({
      status: 200,
      body: { echoed: { name: 'zerowidth' } },
    });
  });

  it('still refuses what the limits refuse, profile or not', () => {
    for (const body of [
      { a: { b: { c: 1 } } },
      { list: [1, 2, 3] },
      { a: 1, b: 2, c: 3, d: 4, e: 5 },
      { long: 'seven!!' },
      { constructor: 1 },
    ]) {
      const refused = answer(
        routes.tightLimits,
        fakeRequest({ method: 'POST', path: '/echo', body }),
      );
      expect(refused, JSON.stringify(body)).toMatchObject({ code: 'VALIDATION_UNSAFE_INPUT' });
    }
  });
});
