import type { Part } from '../index.js';
import type { HookErrorReporter } from './hooks.js';

/** What every framework adapter takes: the same options on Express, Fastify and Koa. */
export interface AdapterOptions {
  /**
   * The parts to mount, in order: `onRequest` and `onError` run in this order, `onSend` and
   * `onResponse` in reverse.
   */
  readonly parts: readonly Part[];
  /**
   * Largest body a part route accepts, in bytes or as `'1mb'`, `'200kb'` (1024-based), before
   * and after decoding `Content-Encoding`. Default `'1mb'`. A larger body gets
   * PAYLOAD_TOO_LARGE (413) at once, without reading the rest.
   */
  readonly bodyLimit?: number | string;
  /**
   * Called when a part's `onResponse`, `onError` or `onSend` throws (the request carries on).
   * Default: `console.error`.
   */
  readonly onHookError?: HookErrorReporter;
}
