import { describe } from 'vitest';
import { describeAsyncHookCases } from './cases/async-hooks.js';
import { describeBodyCases } from './cases/bodies.js';
import { describeConcurrencyCases } from './cases/concurrency.js';
import { describeContextCases } from './cases/context.js';
import { describeDisconnectCases } from './cases/disconnects.js';
import { describeEdgeCases } from './cases/edge.js';
import { describeErrorCases } from './cases/errors.js';
import { describeGracefulCloseCases } from './cases/graceful-close.js';
import { describeHookOrderCases } from './cases/hook-order.js';
import { describeNativeRouteCases } from './cases/native-routes.js';
import { describeOnSendCases } from './cases/on-send.js';
import { describeRequestIdCases } from './cases/request-id.js';
import { describeRequestViewCases } from './cases/request-view.js';
import { describeResponseCases } from './cases/responses.js';
import { describeRouteMetaCases } from './cases/route-meta.js';
import { describeRouteTemplateCases } from './cases/route-templates.js';
import type { AdapterBoot, ConformanceContext, NativeRoutes } from './types.js';

/** Where the suite asks the boot function to register the framework's own routes. */
const NATIVE: NativeRoutes = Object.freeze({ text: '/native/text', fail: '/native/fail' });

/**
 * The adapter conformance suite: one set of HTTP-level cases that @prod/express,
 * @prod/fastify and @prod/koa each run, so the three frameworks cannot drift.
 *
 * It covers request id propagation and the request context, route templates and route
 * metadata seen by every hook, the documented hook order (`onSend` included), early
 * answers, headers and bodies from parts (JSON, text, bytes, streams), problem+json for
 * thrown and returned ProdErrors, unknown errors, 404 and 405 (any method), the framework's
 * own routes and errors, request bodies (malformed, oversized, encoded, prototype-polluting,
 * unstorable text), hostile clients probed with raw sockets, client disconnects, and
 * graceful close. Every part added later adds its cases here. Each group of cases lives in
 * its own file under `cases/`.
 *
 * The boot function mounts the given parts and registers two routes on the framework
 * itself, at the paths it is given: `native.text` answers 200 `text/plain` `native` with the
 * header `x-native: yes`, and `native.fail` throws `CoreErrors.CONFLICT()`.
 *
 * @example
 * import { prodExpress } from '@prod/express';
 * import express from 'express';
 * runAdapterConformance('express', async (parts, native) => {
 *   const app = express();
 *   const prod = prodExpress({ parts });
 *   app.use(prod.handler);
 *   app.get(native.text, (_req, res) => {
 *     res.set('x-native', 'yes').type('text/plain').send('native');
 *   });
 *   app.get(native.fail, () => {
 *     throw CoreErrors.CONFLICT();
 *   });
 *   app.use(prod.finalHandler);
 *   return listen(app);
 * });
 */
export function runAdapterConformance(name: string, boot: AdapterBoot): void {
  const context: ConformanceContext = { boot, native: NATIVE };
  describe(`${name}: adapter conformance`, () => {
    describeRequestIdCases(context);
    describeRequestViewCases(context);
    describeRouteTemplateCases(context);
    describeRouteMetaCases(context);
    describeHookOrderCases(context);
    describeOnSendCases(context);
    describeResponseCases(context);
    describeConcurrencyCases(context);
    describeErrorCases(context);
    describeNativeRouteCases(context);
    describeBodyCases(context);
    describeEdgeCases(context);
    describeDisconnectCases(context);
    describeContextCases(context);
    describeAsyncHookCases(context);
    describeGracefulCloseCases(context);
  });
}
