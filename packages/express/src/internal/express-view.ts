import { RequestView } from '@prod/core/adapter';
import type { Request, Response } from 'express';

/** The neutral request view over an Express request. */
export class ExpressRequestView extends RequestView {
  readonly #request: Request;

  constructor(request: Request, response: Response) {
    super(request, response, request.originalUrl ?? request.url);
    this.#request = request;
  }

  get route(): string | undefined {
    const route: unknown = this.#request.route;
    const path = (route as { path?: unknown } | undefined)?.path;
    return typeof path === 'string' ? `${this.#request.baseUrl ?? ''}${path}` : undefined;
  }

  get params(): Readonly<Record<string, string>> {
    return (this.#request.params ?? {}) as Record<string, string>;
  }

  get ip(): string | undefined {
    return this.#request.ip;
  }

  protected get parsedBody(): unknown {
    return this.#request.body;
  }
}
