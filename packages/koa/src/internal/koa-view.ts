import { RequestView } from '@prod/core/adapter';
import type { Context } from 'koa';

/** The neutral request view over a Koa context. */
export class KoaRequestView extends RequestView {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    super(ctx.req, ctx.res, ctx.originalUrl ?? ctx.url);
    this.#ctx = ctx;
  }

  get route(): string | undefined {
    // Set by @koa/router (ours and any router of the app) on the route that matched.
    const route: unknown = (this.#ctx as { _matchedRoute?: unknown })._matchedRoute;
    return typeof route === 'string' ? route : undefined;
  }

  get params(): Readonly<Record<string, string>> {
    return ((this.#ctx as { params?: unknown }).params ?? {}) as Record<string, string>;
  }

  get ip(): string | undefined {
    return this.#ctx.ip;
  }

  protected get parsedBody(): unknown {
    return (this.#ctx.request as { body?: unknown }).body;
  }
}
