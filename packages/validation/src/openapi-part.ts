import {
  definePart,
  defineRouteMeta,
  type HttpRequest,
  type HttpResponse,
  type OptionChecks,
  optionChecks,
  type Part,
  type Route,
} from '@prod/core';
import { renderDocsPage } from './docs-page.js';
import { ValidationErrors } from './errors.js';
import { type OpenApiOptions, openApiDocument } from './openapi.js';

/** What {@link openApiPart} serves. */
export interface OpenApiPartOptions extends Omit<OpenApiOptions, 'version'> {
  /** The part's name. Default `openapi`. */
  readonly name?: string;
  /** The JSON document's path. Default `/openapi.json`. */
  readonly path?: string;
  /** The HTML reference page's path, or false for none. Default `/docs`. */
  readonly docsPath?: string | false;
}

interface Rendered {
  readonly json: string;
  readonly html: string;
  readonly csp: string;
  readonly style: string;
}

/**
 * The route metadata @prod/security's headers part reads (`@prod/security/headers`, keyed by
 * `Symbol.for` like every route metadata key), declared here by its documented name rather
 * than imported: a feature package does not import another. With it, the docs page is served
 * under the HTML profile of the security headers, its inline style allowed by hash.
 */
const securityHeadersMeta = defineRouteMeta<{
  readonly profile: 'html';
  readonly csp: Readonly<Record<string, readonly string[]>>;
}>('@prod/security/headers');

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);

/**
 * A part serving the OpenAPI 3.1 document of `routes` at `GET /openapi.json` and an HTML
 * reference page at `GET /docs` that works offline (rendered here, no script, no CDN, a CSP
 * that allows only its own style). With versions, `?version=<id>` picks a version's document
 * and page (the latest by default; path-versioned APIs also get `/<id>/openapi.json` and
 * `/<id>/docs`). Every document is generated when the part is made, so a bad one fails at
 * startup.
 *
 * @returns the part; throws `VALIDATION_INVALID_OPTIONS` as {@link openApiDocument} does, or
 * for paths that do not start with `/`.
 *
 * @example
 * declare const routes: readonly Route[];
 * const docs = openApiPart({ info: { title: 'Notes', version: '1.0.0' }, routes });
 */
export function openApiPart(options: OpenApiPartOptions): Part {
  check.object('options', options);
  const path = check.string('path', options.path, '/openapi.json', { nonEmpty: true });
  const docsPath =
    options.docsPath === false
      ? false
      : check.string('docsPath', options.docsPath, '/docs', { nonEmpty: true });
  for (const [name, value] of [
    ['path', path],
    ['docsPath', docsPath],
  ] as const) {
    if (value !== false && !value.startsWith('/'))
      check.fail(name, 'a path starting with /', value);
  }
  const versions = options.versions;
  const ids = versions?.ids ?? [undefined];
  const rendered = new Map<string | undefined, Rendered>();
  for (const id of ids) {
    const document = openApiDocument(id === undefined ? options : { ...options, version: id });
    const links =
      versions === undefined
        ? []
        : versions.ids.map((other) => [other, docsLink(docsPath, path, other)] as const);
    const page = renderDocsPage(document, {
      specUrl: id === undefined ? path : `${path}?version=${encodeURIComponent(id)}`,
      versions: links,
    });
    rendered.set(id, {
      json: JSON.stringify(document),
      html: page.html,
      csp: page.contentSecurityPolicy,
      style: page.styleSource,
    });
  }
  const latest = rendered.get(versions?.latest);
  const pick = (request: HttpRequest, fixed?: string): Rendered => {
    if (fixed !== undefined) return rendered.get(fixed) as Rendered;
    const asked = request.query.version;
    if (asked === undefined || versions === undefined) return latest as Rendered;
    const found = typeof asked === 'string' ? rendered.get(asked) : undefined;
    if (found === undefined) {
      throw ValidationErrors.VALIDATION_UNSUPPORTED_VERSION({
        message: `Ask for one of ${versions.ids.join(', ')}`,
        details: { supported: versions.ids },
        captureStack: false,
      });
    }
    return found;
  };
  const jsonResponse = (page: Rendered): HttpResponse => ({
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' },
    body: page.json,
  });
  const htmlResponse = (page: Rendered): HttpResponse => ({
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': page.csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
    body: page.html,
  });
  const routes: Route[] = [
    { method: 'GET', path, handler: (request) => jsonResponse(pick(request)) },
  ];
  const docsMeta = securityHeadersMeta({
    profile: 'html',
    csp: { 'style-src': [(latest as Rendered).style] },
  });
  if (docsPath !== false) {
    routes.push({
      method: 'GET',
      path: docsPath,
      meta: docsMeta,
      handler: (request) => htmlResponse(pick(request)),
    });
  }
  if (versions?.from === 'path') {
    for (const id of versions.ids) {
      routes.push({
        method: 'GET',
        path: `/${id}${path}`,
        handler: (request) => jsonResponse(pick(request, id)),
      });
      if (docsPath !== false) {
        routes.push({
          method: 'GET',
          path: `/${id}${docsPath}`,
          meta: docsMeta,
          handler: (request) => htmlResponse(pick(request, id)),
        });
      }
    }
  }
  return definePart({
    name: check.string('name', options.name, 'openapi', { nonEmpty: true }),
    routes,
  });
}

function docsLink(docsPath: string | false, path: string, id: string): string {
  return `${docsPath === false ? path : docsPath}?version=${encodeURIComponent(id)}`;
}
