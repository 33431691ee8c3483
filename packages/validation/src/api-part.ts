import {
  definePart,
  defineRouteMeta,
  type HttpRequest,
  type HttpResponse,
  type OptionChecks,
  optionChecks,
  type Part,
  type ProdError,
  RequestSlot,
  type Route,
  type RouteMetaKey,
} from '@prod/core';
import { compiledRoute, partCheck, servedWith } from './define-route.js';
import { ValidationErrors } from './errors.js';
import {
  type CompiledRoute,
  checkEarly,
  type HandleOptions,
  type OlderChecks,
} from './internal/route-runtime.js';
import { type OpenApiPartOptions, openApiPart } from './openapi-part.js';
import { type RouteSpec, routeSpecMeta } from './route-meta.js';
import type { ResponseValidation } from './types.js';
import { type ApiVersions, deprecationHeaders } from './versioning.js';

/** What {@link apiPart} mounts. */
export interface ApiPartOptions {
  /** The part's name. Default `api`. */
  readonly name?: string;
  /** Routes made by `defineRoute`. */
  readonly routes: readonly Route[];
  /** How the API is versioned; every route is served at every version. */
  readonly versions?: ApiVersions;
  /** The response validation of every route, over each route's own. */
  readonly responseValidation?: ResponseValidation;
  /** Told when a response fails validation, over each route's own. */
  readonly onInvalidResponse?: (
    error: ProdError<'VALIDATION_RESPONSE_INVALID'>,
    request: HttpRequest,
  ) => void;
  /** Serve the OpenAPI document and the reference page of these routes (see {@link openApiPart}). */
  readonly openapi?: Omit<OpenApiPartOptions, 'routes' | 'versions' | 'name'>;
}

/** The metadata key holding the version a path-versioned route serves. */
export const apiVersionMeta: RouteMetaKey<string> = defineRouteMeta<string>(
  '@prod/validation/version',
);

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);
const resolved = new RequestSlot<string>('@prod/validation version');

function appendVary(headers: Record<string, string | readonly string[]>, name: string): void {
  const known = headers.vary;
  const list = typeof known === 'string' ? known : Array.isArray(known) ? known.join(', ') : '';
  if (list.split(',').some((item) => item.trim().toLowerCase() === name || item.trim() === '*'))
    return;
  headers.vary = list === '' ? name : `${list}, ${name}`;
}

/**
 * One part for a whole API of `defineRoute` routes: the routes themselves (served at each
 * version: under `/<version>` for path versioning, or resolved from the `API-Version` header),
 * an `onRequest` that refuses early (before the body is read) what a route would refuse later
 * (its stricter `bodyLimit`, its media types, an unknown or retired version), an `onSend` that
 * sets `API-Version`, `Vary`, and `Deprecation` / `Sunset` / `Link` on deprecated versions and
 * routes (error answers included), and, with `openapi`, the document and the reference page.
 *
 * @returns the part; throws `VALIDATION_INVALID_OPTIONS` for routes not made by `defineRoute`
 * or bad options.
 *
 * @example
 * declare const routes: readonly Route[];
 * const api = apiPart({
 *   routes,
 *   versions: apiVersions({ versions: ['2024-01-01', '2025-01-01'] }),
 *   openapi: { info: { title: 'Notes', version: '1.0.0' } },
 * });
 */
export function apiPart(options: ApiPartOptions): Part {
  check.object('options', options);
  if (!Array.isArray(options.routes))
    check.fail('routes', 'a list of routes made by defineRoute', options.routes);
  for (const route of options.routes) {
    if (compiledRoute(route) === undefined)
      check.fail('routes', 'routes made by defineRoute', (route as Route)?.path);
  }
  const versions = options.versions;
  const mode = check.oneOf<ResponseValidation | 'route'>(
    'responseValidation',
    options.responseValidation,
    ['strict', 'strip', 'off', 'route'],
    'route',
  );
  const report = check.fn<NonNullable<ApiPartOptions['onInvalidResponse']>>(
    'onInvalidResponse',
    options.onInvalidResponse,
  );
  const base: { -readonly [K in keyof HandleOptions]: HandleOptions[K] } = {};
  if (mode !== 'route') base.mode = mode;
  if (report !== undefined) base.report = report;

  const own = new Map<RouteSpec, CompiledRoute>();
  const routeDeprecation = new Map<RouteSpec, Record<string, string>>();
  for (const route of options.routes) {
    const compiled = compiledRoute(route) as CompiledRoute;
    own.set(compiled.spec, compiled);
    if (typeof compiled.spec.deprecated === 'object') {
      routeDeprecation.set(compiled.spec, deprecationHeaders(compiled.spec.deprecated));
    }
  }
  const versionHeaders = new Map<string, Record<string, string>>();
  for (const id of versions?.ids ?? []) {
    const info = versions?.deprecationOf(id);
    versionHeaders.set(id, info === undefined ? {} : deprecationHeaders(info));
  }

  // The checks of each route at each older version whose request schemas differ (`before`).
  if (versions !== undefined) {
    const olderByVersion = new Map<string, Map<RouteSpec, OlderChecks>>();
    for (const id of versions.ids) {
      const byRoute = new Map<RouteSpec, OlderChecks>();
      for (const [spec, compiled] of own) {
        const at = versions.specAt(spec, id).request;
        const differs = (part: 'params' | 'query' | 'headers' | 'body'): boolean =>
          at[part] !== undefined && at[part] !== spec.request[part];
        if (!(['params', 'query', 'headers', 'body'] as const).some(differs)) continue;
        const older = (part: 'params' | 'query' | 'headers' | 'body') =>
          differs(part) ? partCheck(part, at[part], compiled.sanitize, part !== 'body') : undefined;
        byRoute.set(spec, {
          params: older('params'),
          query: older('query'),
          headers: older('headers'),
          body: older('body'),
        });
      }
      if (byRoute.size > 0) olderByVersion.set(id, byRoute);
    }
    if (olderByVersion.size > 0) {
      base.older = (route, id) => olderByVersion.get(id)?.get(route.spec);
    }
  }

  let routes: Route[];
  if (versions === undefined) {
    routes = options.routes.map((route) =>
      Object.keys(base).length === 0 ? route : servedWith(route, base),
    );
  } else if (versions.from === 'path') {
    routes = versions.ids.flatMap((id) => {
      const context = versions.context(id);
      return options.routes.map((route) =>
        servedWith(route, { ...base, version: () => context }, `/${id}${route.path}`, {
          ...(route.meta ?? {}),
          ...apiVersionMeta(id),
        }),
      );
    });
  } else {
    const contextOf = (request: HttpRequest) => {
      let id = resolved.get(request);
      if (id === undefined) {
        const found = versions.resolve(request);
        if (!found.ok) throw found.error;
        id = found.value;
      }
      return versions.context(id);
    };
    routes = options.routes.map((route) => servedWith(route, { ...base, version: contextOf }));
  }

  const parts: Route[] = [...routes];
  if (options.openapi !== undefined) {
    const docs = openApiPart({
      ...options.openapi,
      routes: options.routes,
      ...(versions === undefined ? {} : { versions }),
    });
    parts.push(...(docs.routes ?? []));
  }

  return definePart({
    name: check.string('name', options.name, 'api', { nonEmpty: true }),
    routes: parts,
    onRequest(request) {
      const spec = routeSpecMeta.read(request);
      if (spec === undefined || !own.has(spec)) return undefined;
      if (versions !== undefined && versions.from === 'header') {
        const found = versions.resolve(request);
        if (!found.ok) throw found.error;
        resolved.set(request, found.value);
      }
      checkEarly(own.get(spec) as CompiledRoute, request);
      return undefined;
    },
    onSend(request, response) {
      const spec = routeSpecMeta.read(request);
      if (spec === undefined || !own.has(spec)) return undefined;
      // Nothing to add: leave the response as it is (a changed response is encoded again).
      if (versions === undefined && !routeDeprecation.has(spec)) return undefined;
      const headers: Record<string, string | readonly string[]> = { ...(response.headers ?? {}) };
      if (versions !== undefined) {
        const id = versions.from === 'path' ? apiVersionMeta.read(request) : resolved.get(request);
        if (id !== undefined) {
          headers[versions.header] = id;
          Object.assign(headers, versionHeaders.get(id));
        }
        if (versions.from === 'header') appendVary(headers, versions.header);
      }
      const deprecation = routeDeprecation.get(spec);
      if (deprecation !== undefined) Object.assign(headers, deprecation);
      return { ...response, headers } satisfies HttpResponse;
    },
  });
}
