import { RequestView } from '@prod/core/adapter';
import type { Context } from 'koa';

/** The neutral request view over a Koa context. */
export class KoaRequestView extends RequestView {
  readonly #ctx: Context;
  #params: Readonly<Record<string, string>> | undefined;

  constructor(ctx: Context) {
    super(ctx.req, ctx.res, ctx.originalUrl ?? ctx.url);
    this.#ctx = ctx;
  }

  get route(): string | undefined {
    // A part route's template, else the one an application's @koa/router matched.
    const template =
      this.matchedRoute?.path ?? (this.#ctx as { _matchedRoute?: unknown })._matchedRoute;
    return typeof template === 'string' ? template : undefined;
  }

  get params(): Readonly<Record<string, string>> {
    return (
      this.#params ?? ((this.#ctx as { params?: unknown }).params as Record<string, string>) ?? {}
    );
  }

  /** Keeps the params of the part route that matched. */
  routed(params: Readonly<Record<string, string>>): void {
    this.#params = params;
  }

  get ip(): string | undefined {
    return this.#ctx.ip;
  }

  override frameworkBody(): unknown {
    return (this.#ctx.request as { body?: unknown }).body;
  }
}
