import { RequestView } from '@prod/core/adapter';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The neutral request view over a Fastify request. */
export class FastifyRequestView extends RequestView {
  readonly #request: FastifyRequest;

  constructor(request: FastifyRequest, reply: FastifyReply) {
    super(request.raw, reply.raw, request.raw.url ?? request.url);
    this.#request = request;
  }

  get route(): string | undefined {
    // The 404 handler has no route options url.
    const url: unknown = this.#request.routeOptions?.url;
    return typeof url === 'string' ? url : undefined;
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
