import { RequestView } from '@prod/core/adapter';
import type { FastifyReply, FastifyRequest } from 'fastify';

const UNREAD = Symbol('unread');

/** The neutral request view over a Fastify request. */
export class FastifyRequestView extends RequestView {
  readonly #request: FastifyRequest;
  #route: string | undefined | typeof UNREAD = UNREAD;

  constructor(request: FastifyRequest, reply: FastifyReply) {
    super(request.raw, reply.raw, request.raw.url ?? request.url);
    this.#request = request;
  }

  get route(): string | undefined {
    // Fastify routes before the first hook, so the template never changes for a request;
    // read it once: `routeOptions` builds a new object on every access.
    if (this.#route === UNREAD) {
      // The 404 handler has no route options url.
      const url: unknown = this.#request.routeOptions?.url;
      this.#route = typeof url === 'string' ? url : undefined;
    }
    return this.#route;
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
