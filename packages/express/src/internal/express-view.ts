import { RequestView } from '@prod/core/adapter';
import type { Request, Response } from 'express';

/** The neutral request view over an Express request. */
export class ExpressRequestView extends RequestView {
  readonly #request: Request;
  #joinedPath: string | undefined;
  #joinedBase: string | undefined;
  #joined: string | undefined;

  constructor(request: Request, response: Response) {
    super(request, response, request.originalUrl ?? request.url);
    this.#request = request;
  }

  get route(): string | undefined {
    const route: unknown = this.#request.route;
    const path = (route as { path?: unknown } | undefined)?.path;
    if (typeof path !== 'string') return undefined;
    // Read by several hooks per request: join the template once per route and mount point
    // (Express changes both as the request moves through routers).
    const baseUrl = this.#request.baseUrl ?? '';
    if (path !== this.#joinedPath || baseUrl !== this.#joinedBase) {
      this.#joinedPath = path;
      this.#joinedBase = baseUrl;
      this.#joined = `${baseUrl}${path}`;
    }
    return this.#joined;
  }

  get params(): Readonly<Record<string, string>> {
    return (this.#request.params ?? {}) as Record<string, string>;
  }

  get ip(): string | undefined {
    return this.#request.ip;
  }

  /**
   * What `express.json()` (body-parser) mounted before the adapter parsed: `req.body`. The kit
   * asks only once the stream has been read. body-parser 1 (Express 4) also flags `req._body`;
   * body-parser 2 (Express 5) does not, so the flag cannot be the test.
   */
  override frameworkBody(): unknown {
    return (this.#request as { body?: unknown }).body;
  }
}
