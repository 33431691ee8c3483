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
    if (this.#route === UNREAD) this.routed(this.#request.routeOptions?.url);
    return this.#route as string | undefined;
  }

  /** Keeps the route template the adapter read with the route's options. */
  routed(url: unknown): void {
    // The 404 handler has no route options url.
    this.#route = typeof url === 'string' ? url : undefined;
  }

  get params(): Readonly<Record<string, string>> {
    return (this.#request.params ?? {}) as Record<string, string>;
  }

  get ip(): string | undefined {
    return this.#request.ip;
  }

  override frameworkBody(): unknown {
    return this.#request.body;
  }
}
