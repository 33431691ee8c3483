import { type ProdExpressOptions, prodExpress } from './prod-express.js';

/** The one method of an Express app (4 or 5) that {@link mountExpress} uses. */
export interface ExpressAppLike {
  use(...handlers: unknown[]): unknown;
}

/**
 * Mounts parts on an Express app that serves only parts: the handler, then the 404 and
 * error handlers. An app with its own routes uses {@link prodExpress} and mounts
 * `finalHandler` after them.
 *
 * @example
 * import express from 'express';
 * declare const notesPart: Part;
 * declare const healthPart: Part;
 * const app = express();
 * mountExpress(app, { parts: [notesPart, healthPart] });
 * app.listen(3000);
 */
export function mountExpress(app: ExpressAppLike, options: ProdExpressOptions): void {
  const { handler, finalHandler } = prodExpress(options);
  app.use(handler);
  app.use(...finalHandler);
}
