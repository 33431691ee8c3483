import {
  type HttpRequest,
  type MaybePromise,
  type OptionChecks,
  optionChecks,
  parseByteSize,
  ROUTE_METHODS,
  type Route,
  type RouteMeta,
} from '@prod/core';
import { ValidationErrors } from './errors.js';
import { compileCoercion } from './internal/coerce.js';
import { DEFAULT_CAPS } from './internal/field-errors.js';
import {
  type CompiledResponse,
  type CompiledRoute,
  type HandleOptions,
  handle,
  type PartCheck,
  reportToLog,
} from './internal/route-runtime.js';
import { compileSanitizer, leavesPlainText, resolveLimits } from './internal/sanitize-walk.js';
import { isClosed, objectShape } from './internal/schema-shape.js';
import { isSchema, type RouteSpec, routeSpecMeta } from './route-meta.js';
import type {
  RequestSchemas,
  ResponseDeclaration,
  ResponsesDeclaration,
  ResponseValidation,
  RouteDefinition,
  SanitizeOptions,
} from './types.js';

/** A route made by {@link defineRoute}: a neutral `Route` any part can serve, typed by its schemas. */
export interface ValidatedRoute<
  TPath extends string = string,
  TRequest extends RequestSchemas = RequestSchemas,
  TResponses extends ResponsesDeclaration = ResponsesDeclaration,
> extends Route {
  readonly path: TPath;
  /** What the route declares, as the OpenAPI generator and the versioning hooks read it. */
  readonly spec: RouteSpec;
  /** The definition it was made from (its types drive {@link InferInput} and {@link InferReply}). */
  readonly definition: RouteDefinition<TPath, TRequest, TResponses>;
}

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);
const compiledRoutes = new WeakMap<Route, CompiledRoute>();
function byteSize(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return (
    parseByteSize(value) ?? check.fail(name, 'a size in bytes or a string such as "16kb"', value)
  );
}

/** The parameter names of a path template, in order. */
export function pathParamNames(path: string): string[] {
  const names: string[] = [];
  for (const segment of path.split('/')) if (segment.startsWith(':')) names.push(segment.slice(1));
  return names;
}

function operationIdOf(method: string, path: string): string {
  const words = [method.toLowerCase()];
  for (const segment of path.split('/')) {
    if (segment === '') continue;
    const param = segment.startsWith(':');
    const clean = (param ? segment.slice(1) : segment).replace(
      /[^A-Za-z0-9]+(.)?/g,
      (_m, c: string | undefined) => (c === undefined ? '' : c.toUpperCase()),
    );
    if (clean === '') continue;
    const word = clean.charAt(0).toUpperCase() + clean.slice(1);
    words.push(param ? `By${word}` : word);
  }
  return words.join('');
}

function defaultMode(): ResponseValidation {
  return typeof process !== 'undefined' && process.env.NODE_ENV === 'production'
    ? 'strip'
    : 'strict';
}

function toResponses(responses: unknown): Map<number, ResponseDeclaration> {
  if (typeof responses !== 'object' || responses === null || Array.isArray(responses)) {
    return check.fail('responses', 'an object of responses by status', responses);
  }
  const out = new Map<number, ResponseDeclaration>();
  for (const [key, declaration] of Object.entries(responses)) {
    const status = Number(key);
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      check.fail(`responses.${key}`, 'a status from 100 to 599', key);
    }
    const valid =
      declaration === null ||
      isSchema(declaration) ||
      (typeof declaration === 'object' &&
        declaration !== null &&
        'schema' in declaration &&
        (declaration.schema === null || isSchema(declaration.schema)));
    if (!valid) check.fail(`responses.${key}`, 'a zod schema, null or { schema }', declaration);
    out.set(status, declaration as ResponseDeclaration);
  }
  if (out.size === 0) check.fail('responses', 'at least one response', responses);
  return out;
}

function compileResponse(declaration: ResponseDeclaration): CompiledResponse {
  if (declaration === null) return { schema: null, contentType: 'application/json; charset=utf-8' };
  if (isSchema(declaration))
    return { schema: declaration, contentType: 'application/json; charset=utf-8' };
  const type = declaration.contentType ?? 'application/json';
  const contentType = /json$/i.test(type) && !type.includes(';') ? `${type}; charset=utf-8` : type;
  return { schema: declaration.schema, contentType };
}

/** Compiles the check of one request part (internal to the package: apiPart uses it too). */
export function partCheck(
  name: string,
  schema: unknown,
  sanitize: SanitizeOptions | false | undefined,
  coerced: boolean,
): PartCheck | undefined {
  if (schema === undefined) return undefined;
  if (!isSchema(schema)) return check.fail(`request.${name}`, 'a zod schema', schema);
  const limits = resolveLimits(
    sanitize === false ? undefined : sanitize?.limits,
    (option, value, fallback) => check.integer(`sanitize.${option}`, value, fallback, { min: 1 }),
  );
  const plan = sanitize === false ? undefined : compileSanitizer(schema, sanitize);
  return Object.freeze({
    schema,
    plan,
    limits,
    prefix: `/${name}`,
    // Only a body: the adapters have bounded its size and depth and refused `__proto__`; the
    // query and headers keep their walk (prototype keys in a query are refused here).
    skipWalk: name === 'body' && sanitize === false && isClosed(schema),
    plainUnchanged: leavesPlainText(plan),
    coercion: coerced ? compileCoercion(schema) : undefined,
  });
}

/** The compiled form of a route made by {@link defineRoute} (internal to the package). */
export function compiledRoute(route: Route): CompiledRoute | undefined {
  return compiledRoutes.get(route);
}

/** A copy of `route` served with other options (by `apiPart`: a version, a response mode). */
export function servedWith(
  route: Route,
  options: HandleOptions,
  path: string = route.path,
  meta: RouteMeta = route.meta ?? {},
): Route {
  const compiled = compiledRoutes.get(route);
  if (compiled === undefined) return check.fail('routes', 'routes made by defineRoute', route.path);
  const copy: Route = Object.freeze({
    ...route,
    path,
    meta,
    handler: (request: HttpRequest): MaybePromise<never> =>
      handle(compiled, request, options) as never,
  });
  compiledRoutes.set(copy, compiled);
  return copy;
}

/**
 * Defines a route once: method, path, the zod schemas of its params, query, headers and body,
 * its responses by status, and a handler that gets typed, sanitized, parsed input and may
 * answer only the declared statuses with their body types. The result is a neutral `Route`
 * that any part serves on Express, Fastify or Koa, carrying its {@link RouteSpec} as route
 * metadata for the OpenAPI generator ({@link openApiDocument}) and {@link apiPart}.
 *
 * Each request: the per-route body limit and media types; sanitization of every string
 * (default: NFC, control and invisible characters removed; fields' own steps with
 * {@link sanitized}) and input limits (prototype keys, depth, key count); query, path and
 * header strings coerced to the schema's numbers, booleans and arrays; every part parsed,
 * every failure of every part collected into one `400 VALIDATION_INVALID_INPUT`; then the
 * handler; then its answer checked against the schema of its status (see
 * {@link ResponseValidation}).
 *
 * Gotchas: the handler's `body` is the schema's output (after transforms and defaults); the
 * body it answers is the response schema's input. Throw a ProdError (or return a failed
 * Result) for an error answer: it goes to the adapter as problem+json, unvalidated.
 *
 * @returns the route; throws `VALIDATION_INVALID_OPTIONS` for a bad definition (an unknown
 * method, a path not starting with `/`, a `params` schema whose keys are not the path's, a
 * response that is not a schema, null or `{ schema }`, a bad `bodyLimit`).
 *
 * @example
 * import * as z from 'zod';
 * const Note = z.object({ id: z.uuid(), title: z.string() }).meta({ id: 'Note' });
 * export const getNote = defineRoute({
 *   method: 'GET',
 *   path: '/v1/notes/:id',
 *   summary: 'Get a note',
 *   tags: ['notes'],
 *   request: { params: z.object({ id: z.uuid() }), query: z.object({ fields: z.array(z.string()).optional() }) },
 *   responses: { 200: Note, 404: problemResponse('No such note') },
 *   handler: ({ params }) => ({ status: 200, body: { id: params.id, title: 'Hello' } }),
 * });
 */
export function defineRoute<
  const TPath extends string,
  const TRequest extends RequestSchemas = Record<never, never>,
  const TResponses extends ResponsesDeclaration = ResponsesDeclaration,
>(
  definition: RouteDefinition<TPath, TRequest, TResponses>,
): ValidatedRoute<TPath, TRequest, TResponses> {
  check.object('definition', definition);
  const method = check.oneOf('method', definition.method, ROUTE_METHODS, 'GET');
  const path = check.string('path', definition.path, '', { nonEmpty: true });
  if (!path.startsWith('/')) check.fail('path', 'a path starting with /', path);
  const handler = check.fn<(input: never) => unknown>('handler', definition.handler);
  if (handler === undefined) check.fail('handler', 'a function', definition.handler);
  const request = check.object<
    NonNullable<RouteDefinition<TPath, TRequest, TResponses>['request']>
  >('request', definition.request);
  const sanitize = definition.sanitize;
  if (sanitize !== undefined && sanitize !== false) check.object('sanitize', sanitize);
  const pathParams = pathParamNames(path);
  if (request.params !== undefined && isSchema(request.params)) {
    const shape = objectShape(request.params);
    if (shape === undefined) check.fail('request.params', 'an object schema', 'another schema');
    const keys = Object.keys(shape).sort();
    if (keys.join('/') !== [...pathParams].sort().join('/')) {
      check.fail(
        'request.params',
        `the path's parameters (${pathParams.join(', ') || 'none'})`,
        keys.join(', '),
      );
    }
  }
  let headerKeys: string[] | undefined;
  if (request.headers !== undefined && isSchema(request.headers)) {
    const shape = objectShape(request.headers);
    if (shape === undefined) check.fail('request.headers', 'an object schema', 'another schema');
    headerKeys = Object.keys(shape);
    const upper = headerKeys.find((key) => key !== key.toLowerCase());
    if (upper !== undefined) check.fail('request.headers', 'lower-case header names', upper);
  }
  const contentTypes = request.contentTypes;
  if (
    contentTypes !== undefined &&
    (!Array.isArray(contentTypes) || contentTypes.some((t) => typeof t !== 'string'))
  ) {
    check.fail('request.contentTypes', 'a list of media types', contentTypes);
  }
  const responses = toResponses(definition.responses);
  const mode = check.oneOf(
    'responseValidation',
    definition.responseValidation,
    ['strict', 'strip', 'off'],
    defaultMode(),
  );
  const report = check.fn<CompiledRoute['report']>(
    'onInvalidResponse',
    definition.onInvalidResponse,
  );
  const tags = definition.tags ?? [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string'))
    check.fail('tags', 'a list of strings', tags);
  const deprecated = definition.deprecated ?? false;
  if (typeof deprecated !== 'boolean') check.object('deprecated', deprecated);
  const spec: RouteSpec = Object.freeze({
    method,
    path,
    operationId: check.string('operationId', definition.operationId, operationIdOf(method, path), {
      nonEmpty: true,
    }),
    summary: check.string('summary', definition.summary, `${method} ${path}`, { nonEmpty: true }),
    description: definition.description,
    tags: Object.freeze([...tags]),
    deprecated,
    security: definition.security,
    request: Object.freeze({ ...request }),
    responses,
    responseValidation: mode,
    pathParams: Object.freeze(pathParams),
  });
  const compiled: CompiledRoute = Object.freeze({
    spec,
    params: partCheck('params', request.params, sanitize, true),
    query: partCheck('query', request.query, sanitize, true),
    headers: partCheck('headers', request.headers, sanitize, true),
    headerKeys,
    body: partCheck('body', request.body, sanitize, false),
    bodyLimit: byteSize('request.bodyLimit', request.bodyLimit),
    contentTypes: contentTypes?.map((type) => type.trim().toLowerCase()),
    responses: new Map(
      [...responses].map(([status, declaration]) => [status, compileResponse(declaration)]),
    ),
    mode,
    report: report ?? reportToLog,
    caps:
      definition.maxErrors === undefined
        ? DEFAULT_CAPS
        : {
            ...DEFAULT_CAPS,
            maxErrors: check.integer('maxErrors', definition.maxErrors, 50, { min: 1 }),
          },
    handler: definition.handler as unknown as CompiledRoute['handler'],
    sanitize,
  });
  const route = Object.freeze({
    method,
    path: path as TPath,
    meta: { ...(definition.meta ?? {}), ...routeSpecMeta(spec) },
    handler: (request: HttpRequest): MaybePromise<never> => handle(compiled, request) as never,
    spec,
    definition,
  });
  compiledRoutes.set(route, compiled);
  return route;
}
