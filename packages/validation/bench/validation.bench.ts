/**
 * Validation of a typical JSON body (20 fields, nested: an order with two addresses and
 * items) through a `defineRoute` route (the handler as an adapter calls it, with the parsed
 * body on the request view; the handler answers 204 with no body) against the same zod
 * schema's `safeParse` called directly. Our route also sanitizes every string first (default
 * steps) and holds the input to its limits; a second variant turns sanitization off to show
 * what it costs. Run: `pnpm bench:micro validation/bench/validation`.
 */
import { fakeRequest } from '@prod/testing';
import { defineRoute, validate } from '@prod/validation';
import { keep, runMicro } from '../../../config/bench-micro.js';
import { Order, orderBody } from './fixtures.js';

const route = defineRoute({
  method: 'POST',
  path: '/orders',
  request: { body: Order },
  responses: { 204: null },
  handler: () => ({ status: 204 }),
});
const unsanitized = defineRoute({
  method: 'POST',
  path: '/orders',
  sanitize: false,
  request: { body: Order },
  responses: { 204: null },
  handler: () => ({ status: 204 }),
});
const request = fakeRequest({ method: 'POST', path: '/orders', body: orderBody });
const accented = fakeRequest({
  method: 'POST',
  path: '/orders',
  body: { ...orderBody, name: 'Zoë Ångström-Núñez', notes: 'Café crème, s’il vous plaît.' },
});

const ZOD = 'zod 4 Order.safeParse(body)';
const ROUTE = '@prod/validation route handler (sanitize + limits + parse + 204)';
const ROUTE_RAW = '@prod/validation route handler, sanitize: false (limits + parse + 204)';
const VALIDATE = '@prod/validation validate(Order, body)';
const ZOD_ACCENTED = 'zod 4 safeParse, non-ASCII strings';
const ROUTE_ACCENTED = '@prod/validation route, non-ASCII strings (NFC etc. run)';

const answered = (response: unknown): number => (response as { status: number }).status;

await runMicro({
  file: import.meta.url,
  title: '@prod/validation: a 20-field nested JSON body through a route vs zod directly',
  groups: [
    {
      name: 'ASCII body (the sanitizers\u2019 fast path)',
      contenders: {
        [ZOD]: () => keep(Order.safeParse(orderBody).success),
        [ROUTE]: () => keep(answered(route.handler(request))),
        [ROUTE_RAW]: () => keep(answered(unsanitized.handler(request))),
        [VALIDATE]: () => keep(validate(Order, orderBody).ok),
      },
      ratios: [
        {
          ours: ROUTE,
          peer: ZOD,
          label: 'route vs zod directly (goal: >= 0.91, i.e. < 10 % overhead)',
        },
        { ours: ROUTE_RAW, peer: ZOD, label: 'route without sanitization vs zod directly' },
        { ours: VALIDATE, peer: ZOD, label: 'validate() vs zod directly' },
      ],
    },
    {
      name: 'body with accented names (the Unicode steps run)',
      contenders: {
        [ZOD_ACCENTED]: () => keep(Order.safeParse(accented.body).success),
        [ROUTE_ACCENTED]: () => keep(answered(route.handler(accented))),
      },
      ratios: [
        { ours: ROUTE_ACCENTED, peer: ZOD_ACCENTED, label: 'route vs zod, non-ASCII strings' },
      ],
    },
  ],
});
