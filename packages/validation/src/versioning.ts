import {
  err,
  type HttpRequest,
  type OptionChecks,
  ok,
  optionChecks,
  type ProdError,
  type Result,
  type Route,
} from '@prod/core';
import { ValidationErrors } from './errors.js';
import type { RawInput, VersionContext } from './internal/route-runtime.js';
import { type RouteSpec, routeSpecMeta } from './route-meta.js';
import type { DeprecationInfo, RequestSchemas, ResponsesDeclaration } from './types.js';

/** The parts of a request a version change may rewrite (before validation). */
export type VersionedRequest = RawInput;

/** What a version change's transforms are told. */
export interface ChangeContext {
  readonly route: RouteSpec;
  readonly request: HttpRequest;
  /** The version the client asked for. */
  readonly version: string;
}

/**
 * One breaking change, Stripe style: the handlers only know the latest shape; clients pinned
 * to a version older than `version` get their requests moved forward through `request` and
 * the responses moved back through `response`.
 */
export interface VersionChange {
  /** The version that introduced the change. */
  readonly version: string;
  /** What changed, for the documents and the changelog. */
  readonly description: string;
  /** The routes it affects (routes, or their operationIds). Default: every route. */
  readonly routes?: readonly (Route | string)[];
  /** A request in the shape before the change, to the shape after it. */
  readonly request?: (input: VersionedRequest, context: ChangeContext) => VersionedRequest;
  /** A response body in the shape after the change, to the shape before it. */
  readonly response?: (
    body: unknown,
    context: ChangeContext & { readonly status: number },
  ) => unknown;
  /**
   * The schemas before the change: older clients' requests are validated against them (their
   * errors then name that version's fields) before they are moved forward, and the documents
   * of older versions show them. Each replaces the part (or the status) a route declares, and
   * is ignored for a route that declares none.
   */
  readonly before?: {
    readonly request?: RequestSchemas;
    readonly responses?: ResponsesDeclaration;
  };
}

/** One version of the API. */
export interface ApiVersion {
  /** `2024-06-01` (a date, Stripe style), `v2`, `2`... */
  readonly id: string;
  /** Deprecation dates of this version (`Deprecation`, `Sunset`, `Link` on its responses). */
  readonly deprecated?: DeprecationInfo;
}

/** How an API is versioned (see {@link apiVersions}). */
export interface ApiVersionsOptions {
  /** The versions, oldest first. */
  readonly versions: readonly (string | ApiVersion)[];
  /** The breaking changes, each naming the version that introduced it. */
  readonly changes?: readonly VersionChange[];
  /**
   * Where a request names its version: `header` (`API-Version: 2024-06-01`, the default), or
   * `path` (each route is served under `/<version>`: `/v1/notes`, `/v2/notes`).
   */
  readonly from?: 'header' | 'path';
  /** The header, for `from: 'header'`. Default `api-version`. */
  readonly header?: string;
  /**
   * The version of a request without the header: `latest` (default), `oldest`, a version id,
   * or a function (a client's pinned version, from its account) returning an id or undefined
   * (then the latest).
   */
  readonly default?: string | ((request: HttpRequest) => string | undefined);
  /** Answer `410 VALIDATION_VERSION_SUNSET` to a version past its sunset date. Default false. */
  readonly refuseAfterSunset?: boolean;
}

/** An API's versions, as {@link apiPart} and {@link openApiDocument} use them. */
export interface ApiVersions {
  /** Version ids, oldest first. */
  readonly ids: readonly string[];
  readonly latest: string;
  readonly from: 'header' | 'path';
  /** The header name (lower case). */
  readonly header: string;
  /** The default, as the documents describe it. */
  readonly defaultDescription: string;
  readonly changes: readonly VersionChange[];
  /** The version a request asks for (header mode). */
  resolve(
    request: HttpRequest,
  ): Result<string, ProdError<'VALIDATION_UNSUPPORTED_VERSION' | 'VALIDATION_VERSION_SUNSET'>>;
  /** How a request at `id` moves to the latest version and back. */
  context(id: string): VersionContext;
  /** The route as the clients of `version` see it (older schemas from the changes' `before`). */
  specAt(spec: RouteSpec, version: string | undefined): RouteSpec;
  /** The deprecation of a version, if any. */
  deprecationOf(id: string): DeprecationInfo | undefined;
}

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

function toTime(name: string, value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(time)) check.fail(name, 'a date', value);
  return time;
}

/**
 * The `Deprecation` (RFC 9745: `@<unix seconds>`), `Sunset` (RFC 8594: an HTTP-date) and
 * `Link` (`rel="deprecation"`) headers of a deprecation.
 *
 * @example
 * deprecationHeaders({ at: '2025-01-01', sunset: '2025-07-01', link: 'https://example.com/v1' });
 * // { deprecation: '@1735689600', sunset: 'Tue, 01 Jul 2025 00:00:00 GMT', link: '<https://example.com/v1>; rel="deprecation"; type="text/html"' }
 */
export function deprecationHeaders(info: DeprecationInfo): Record<string, string> {
  const headers: Record<string, string> = {};
  const at = toTime('deprecated.at', info.at);
  const sunset = toTime('deprecated.sunset', info.sunset);
  if (at !== undefined) headers.deprecation = `@${Math.floor(at / 1000)}`;
  if (sunset !== undefined) headers.sunset = new Date(sunset).toUTCString();
  if (info.link !== undefined) {
    if (!URL.canParse(info.link) || /[<>\s]/.test(info.link))
      check.fail('deprecated.link', 'an absolute URL', info.link);
    headers.link = `<${info.link}>; rel="deprecation"; type="text/html"`;
  }
  return headers;
}

function affects(change: VersionChange, spec: RouteSpec): boolean {
  if (change.routes === undefined) return true;
  return change.routes.some((target) =>
    typeof target === 'string'
      ? target === spec.operationId
      : routeSpecMeta.read(target)?.operationId === spec.operationId,
  );
}

/**
 * Declares an API's versions: URL (`/v1`, `/v2`), header (`API-Version: 2`), or Stripe-style
 * dates (`API-Version: 2024-06-01`, where any date picks the latest version on or before it).
 * Handlers only know the latest version; the `changes` walk older clients' requests forward
 * and the responses back, and give each version its own OpenAPI document. Old versions get
 * `Deprecation` / `Sunset` / `Link` headers through {@link apiPart}'s `onSend`.
 *
 * @returns the versions; throws `VALIDATION_INVALID_OPTIONS` for no versions, duplicate ids,
 * a change naming an unknown version (or the oldest, which nothing is older than), or bad dates.
 *
 * @example
 * const versions = apiVersions({
 *   versions: ['2024-01-01', { id: '2025-01-01' }],
 *   changes: [
 *     {
 *       version: '2025-01-01',
 *       description: 'Note.name is now Note.title',
 *       request: (input) => {
 *         const { name, ...rest } = (input.body ?? {}) as { name?: unknown };
 *         return { ...input, body: { ...rest, title: name } };
 *       },
 *       response: (body) => {
 *         const { title, ...rest } = body as { title?: unknown };
 *         return { ...rest, name: title };
 *       },
 *     },
 *   ],
 * });
 */
export function apiVersions(options: ApiVersionsOptions): ApiVersions {
  check.object('options', options);
  if (!Array.isArray(options.versions) || options.versions.length === 0) {
    check.fail('versions', 'a list of at least one version', options.versions);
  }
  const list: ApiVersion[] = options.versions.map((entry, i) => {
    const version =
      typeof entry === 'string' ? { id: entry } : check.object<ApiVersion>(`versions.${i}`, entry);
    check.string(`versions.${i}.id`, version.id, '', { nonEmpty: true });
    if (!/^[\w.-]{1,40}$/.test(version.id))
      check.fail(`versions.${i}.id`, 'letters, digits, ".", "-" or "_" (at most 40)', version.id);
    if (version.deprecated !== undefined) deprecationHeaders(version.deprecated);
    return version;
  });
  const ids = list.map((version) => version.id);
  if (new Set(ids).size !== ids.length) check.fail('versions', 'unique ids', ids.join(', '));
  const dates = ids.every((id) => DATE.test(id) && Number.isFinite(Date.parse(id)));
  if (dates && [...ids].sort().join() !== ids.join())
    check.fail('versions', 'dates oldest first', ids.join(', '));
  const index = new Map(ids.map((id, i) => [id, i]));
  const changes = [...(options.changes ?? [])];
  for (const [i, change] of changes.entries()) {
    check.object(`changes.${i}`, change);
    const at = index.get(change.version);
    if (at === undefined)
      check.fail(`changes.${i}.version`, `one of ${ids.join(', ')}`, change.version);
    if (at === 0) check.fail(`changes.${i}.version`, 'a version after the oldest', change.version);
    check.string(`changes.${i}.description`, change.description, '', { nonEmpty: true });
    check.fn(`changes.${i}.request`, change.request);
    check.fn(`changes.${i}.response`, change.response);
  }
  changes.sort((a, b) => (index.get(a.version) ?? 0) - (index.get(b.version) ?? 0));
  const from = check.oneOf('from', options.from, ['header', 'path'], 'header');
  const header = check
    .string('header', options.header, 'api-version', { nonEmpty: true })
    .toLowerCase();
  if (!HEADER_NAME.test(header)) check.fail('header', 'a header name', header);
  const latest = ids[ids.length - 1] as string;
  const fallback = options.default;
  let fixedDefault: string | undefined;
  let pick: ((request: HttpRequest) => string | undefined) | undefined;
  if (typeof fallback === 'function') pick = fallback;
  else if (fallback === undefined || fallback === 'latest') fixedDefault = latest;
  else if (fallback === 'oldest') fixedDefault = ids[0];
  else if (typeof fallback === 'string' && index.has(fallback)) fixedDefault = fallback;
  else check.fail('default', `latest, oldest, one of ${ids.join(', ')} or a function`, fallback);
  const refuseAfterSunset = check.boolean('refuseAfterSunset', options.refuseAfterSunset, false);
  const deprecations = new Map(
    list
      .filter((v) => v.deprecated !== undefined)
      .map((v) => [v.id, v.deprecated as DeprecationInfo]),
  );
  const sunsets = new Map(
    [...deprecations].flatMap(([id, info]) => {
      const time = toTime('deprecated.sunset', info.sunset);
      return time === undefined ? [] : [[id, time] as const];
    }),
  );

  const contexts = new Map<string, VersionContext>();
  for (const id of ids) {
    const at = index.get(id) ?? 0;
    const newer = changes.filter((change) => (index.get(change.version) ?? 0) > at);
    const forward = newer.filter((change) => change.request !== undefined);
    const backward = newer.filter((change) => change.response !== undefined).reverse();
    contexts.set(
      id,
      Object.freeze({
        id,
        upgrade:
          forward.length === 0
            ? undefined
            : (raw: RawInput, route: RouteSpec, request: HttpRequest): RawInput => {
                let out = raw;
                for (const change of forward) {
                  if (affects(change, route))
                    out = (change.request as NonNullable<VersionChange['request']>)(out, {
                      route,
                      request,
                      version: id,
                    });
                }
                return out;
              },
        downgrade:
          backward.length === 0
            ? undefined
            : (body: unknown, status: number, route: RouteSpec, request: HttpRequest): unknown => {
                let out = body;
                for (const change of backward) {
                  if (affects(change, route)) {
                    out = (change.response as NonNullable<VersionChange['response']>)(out, {
                      route,
                      request,
                      version: id,
                      status,
                    });
                  }
                }
                return out;
              },
      }),
    );
  }

  const unsupported = (): ProdError<'VALIDATION_UNSUPPORTED_VERSION'> =>
    ValidationErrors.VALIDATION_UNSUPPORTED_VERSION({
      message: `Send ${header} as one of ${ids.join(', ')}${dates ? ' (or a later date)' : ''}`,
      details: { header, supported: ids },
      captureStack: false,
    });

  const resolveId = (request: HttpRequest): string | undefined => {
    const asked = request.headers[header]?.trim();
    if (asked === undefined || asked === '') {
      const picked = pick?.(request);
      if (picked !== undefined && index.has(picked)) return picked;
      return fixedDefault ?? latest;
    }
    if (index.has(asked)) return asked;
    if (dates && DATE.test(asked) && Number.isFinite(Date.parse(asked))) {
      let found: string | undefined;
      for (const id of ids) if (id <= asked) found = id;
      return found;
    }
    return undefined;
  };

  return Object.freeze({
    ids: Object.freeze(ids),
    latest,
    from,
    header,
    defaultDescription:
      pick !== undefined ? 'the client\u2019s pinned version' : (fixedDefault ?? latest),
    changes: Object.freeze(changes),
    resolve(request: HttpRequest) {
      const id = resolveId(request);
      if (id === undefined) return err(unsupported());
      const sunset = sunsets.get(id);
      if (refuseAfterSunset && sunset !== undefined && sunset <= Date.now()) {
        return err(
          ValidationErrors.VALIDATION_VERSION_SUNSET({
            message: `Version ${id} was retired on ${new Date(sunset).toUTCString()}`,
            details: { version: id, supported: ids },
            captureStack: false,
          }),
        );
      }
      return ok(id);
    },
    context: (id: string): VersionContext =>
      contexts.get(id) ?? (contexts.get(latest) as VersionContext),
    specAt(spec: RouteSpec, version: string | undefined): RouteSpec {
      const at = version === undefined ? ids.length - 1 : (index.get(version) ?? ids.length - 1);
      let request = spec.request;
      let responses = spec.responses;
      for (const change of [...changes].reverse()) {
        if (
          (index.get(change.version) ?? 0) <= at ||
          change.before === undefined ||
          !affects(change, spec)
        )
          continue;
        // A change's older schemas replace the parts a route has, never add parts it lacks
        // (one change may touch routes with and without a body).
        const before = change.before.request;
        if (before !== undefined) {
          const replaced: Record<string, unknown> = {};
          for (const part of ['params', 'query', 'headers', 'body'] as const) {
            if (before[part] !== undefined && request[part] !== undefined)
              replaced[part] = before[part];
          }
          if (Object.keys(replaced).length > 0) {
            // The latest body's examples do not describe an older body.
            const { examples: _latest, ...rest } = request;
            request = { ...(replaced.body === undefined ? request : rest), ...replaced };
          }
        }
        if (change.before.responses !== undefined) {
          const merged = new Map(responses);
          for (const [status, declaration] of Object.entries(change.before.responses)) {
            if (merged.has(Number(status))) merged.set(Number(status), declaration);
          }
          responses = merged;
        }
      }
      return request === spec.request && responses === spec.responses
        ? spec
        : { ...spec, request, responses };
    },
    deprecationOf: (id: string): DeprecationInfo | undefined => deprecations.get(id),
  });
}
