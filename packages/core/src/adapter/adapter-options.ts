import type { Part } from '../index.js';
import type { HookErrorReporter } from './hooks.js';

/** What every framework adapter takes: the same options on Express, Fastify and Koa. */
export interface AdapterOptions {
  /** The parts to mount, in order: their hooks run in this order (onResponse in reverse). */
  readonly parts: readonly Part[];
  /**
   * Largest JSON body a neutral route accepts, in bytes or as `'1mb'`, `'200kb'`.
   * Default `'1mb'`. A larger body gets PAYLOAD_TOO_LARGE (413).
   */
  readonly bodyLimit?: number | string;
  /**
   * Called when a part's `onResponse` or `onError` throws (the request carries on).
   * Default: `console.error`.
   */
  readonly onHookError?: HookErrorReporter;
}
