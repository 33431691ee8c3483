import type { AdapterKit } from '@prod/core/adapter';
import type { FastifyReply } from 'fastify';

/** The kit of the @prod/fastify plugin of an app, for the server-level error options. */
export type FastifyKit = AdapterKit<FastifyReply>;

/** Where the plugin keeps its kit on the Fastify instance. */
export const KIT: unique symbol = Symbol.for('@prod/fastify/kit');
