import { defineRouteMeta, type HttpMethod, type RouteMetaKey } from '@prod/core';
import type {
  DeprecationInfo,
  RequestOptions,
  ResponseDeclaration,
  ResponseValidation,
  Schema,
} from './types.js';

/** A route's declaration as other parts read it (the OpenAPI generator, the versioning hooks). */
export interface RouteSpec {
  readonly method: HttpMethod;
  /** The template as declared (`/v1/notes/:id`). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tags: readonly string[];
  readonly deprecated: boolean | DeprecationInfo;
  readonly security: readonly Readonly<Record<string, readonly string[]>>[] | undefined;
  readonly request: Readonly<RequestOptions>;
  readonly responses: ReadonlyMap<number, ResponseDeclaration>;
  readonly responseValidation: ResponseValidation;
  /** The route's path parameters, in order. */
  readonly pathParams: readonly string[];
}

/**
 * The route metadata key of @prod/validation (`@prod/validation/route`): every route made by
 * `defineRoute` carries its {@link RouteSpec} under it, so any hook (or another package's
 * generator) can read what the route declares.
 */
export const routeSpecMeta: RouteMetaKey<RouteSpec> =
  defineRouteMeta<RouteSpec>('@prod/validation/route');

/** Whether a value is a zod 4 schema. */
export function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && '_zod' in value;
}
