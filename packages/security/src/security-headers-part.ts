import { randomBytes } from 'node:crypto';
import {
  definePart,
  defineRouteMeta,
  type HttpRequest,
  type HttpResponse,
  optionChecks,
  type Part,
  RequestSlot,
  type RouteMeta,
  type RouteMetaKey,
} from '@prod/core';
import {
  API_CSP,
  type CspDirectives,
  HTML_CSP,
  mergeDirectives,
  NONCE_SLOT,
  serializeCsp,
} from './csp.js';
import { SecurityErrors } from './errors.js';
import { isHttpToken } from './internal/syntax.js';

/** The two header sets: `api` for JSON answers, `html` for pages the service serves. */
export type SecurityProfile = 'api' | 'html';

/** Strict-Transport-Security settings. */
export interface HstsOptions {
  /** In ms (sent in seconds). Default one year. */
  readonly maxAge?: number;
  /** Default true. */
  readonly includeSubDomains?: boolean;
  /** Ask to be preloaded in browsers (only once every subdomain is on HTTPS). Default false. */
  readonly preload?: boolean;
}

/** What a route (or `overrides`) changes for its responses. */
export interface RouteSecurityHeaders {
  /** The profile of this route's responses. Default: the part's. */
  readonly profile?: SecurityProfile;
  /** Directives over the profile's (a `null` drops one); `false`: no CSP header at all. */
  readonly csp?: CspDirectives | false;
  /** Headers set over the profile's; `null` leaves one out. */
  readonly headers?: Readonly<Record<string, string | null>>;
}

/** Options of {@link securityHeadersPart}. */
export interface SecurityHeadersOptions extends RouteSecurityHeaders {
  /** The part's name. Default `security-headers`. */
  readonly name?: string;
  /**
   * `Strict-Transport-Security`: on by default (one year, subdomains). Browsers ignore it over
   * plain HTTP (RFC 6797 section 8.1), so it only takes effect behind TLS. `false` to leave it out.
   */
  readonly hsts?: boolean | HstsOptions;
  /** Send the CSP as `Content-Security-Policy-Report-Only` (try a policy first). Default false. */
  readonly reportOnly?: boolean;
  /**
   * The settings of requests whose route declares none (`routeSecurityHeaders`): for pages the
   * application serves through its own framework routes (`/docs`), or 404s.
   */
  readonly overrides?: (request: HttpRequest) => RouteSecurityHeaders | undefined;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * The route metadata key of the security headers (`@prod/security/headers`). Prefer
 * {@link routeSecurityHeaders}, which checks what you declare when the route is defined.
 */
export const securityHeadersMeta: RouteMetaKey<RouteSecurityHeaders> =
  defineRouteMeta<RouteSecurityHeaders>('@prod/security/headers');

function checkRouteHeaders(name: string, given: unknown): RouteSecurityHeaders {
  const value = check.object<RouteSecurityHeaders>(name, given);
  const profile =
    value.profile === undefined
      ? undefined
      : check.oneOf(`${name}.profile`, value.profile, ['api', 'html'], 'api');
  if (value.csp !== undefined && value.csp !== false)
    mergeDirectives(`${name}.csp`, API_CSP, value.csp);
  if (value.headers !== undefined) {
    for (const [header, content] of Object.entries(
      check.object<Record<string, unknown>>(`${name}.headers`, value.headers),
    )) {
      if (!isHttpToken(header)) check.fail(`${name}.headers`, 'header names', header);
      if (content !== null && (typeof content !== 'string' || /[\r\n\0]/.test(content))) {
        check.fail(
          `${name}.headers.${header}`,
          'a header value (no CR, LF or NUL) or null',
          content,
        );
      }
    }
  }
  return Object.freeze({
    ...(profile === undefined ? {} : { profile }),
    ...(value.csp === undefined ? {} : { csp: value.csp }),
    ...(value.headers === undefined ? {} : { headers: Object.freeze({ ...value.headers }) }),
  });
}

/**
 * A route's security headers, checked now: spread it into the route's `meta` (a page of API
 * docs with the HTML profile and a CDN for its script, say).
 *
 * @example
 * const docs = definePart({
 *   name: 'docs',
 *   routes: [
 *     {
 *       method: 'GET',
 *       path: '/docs',
 *       meta: routeSecurityHeaders({ profile: 'html', csp: { 'script-src': ["'self'", 'https://cdn.example.com'] } }),
 *       handler: (request) => ({
 *         status: 200,
 *         headers: { 'content-type': 'text/html; charset=utf-8' },
 *         body: `<script nonce="${cspNonce(request)}">boot()</script>`,
 *       }),
 *     },
 *   ],
 * });
 */
export function routeSecurityHeaders(settings: RouteSecurityHeaders): RouteMeta {
  return securityHeadersMeta(checkRouteHeaders('settings', settings));
}

const nonces = new RequestSlot<string>('@prod/security csp nonce');

/**
 * The CSP nonce of this request (made on first use, 128 random bits): put it on your inline
 * `<script nonce="...">` and `<style nonce="...">`; the security headers part adds
 * `'nonce-...'` to `script-src` and `style-src` of the HTML profile for this response only.
 *
 * @example
 * declare const request: HttpRequest;
 * const page = `<script nonce="${cspNonce(request)}">window.start()</script>`;
 */
export function cspNonce(request: HttpRequest): string {
  let nonce = nonces.get(request);
  if (nonce === undefined) {
    nonce = randomBytes(16).toString('base64');
    nonces.set(request, nonce);
  }
  return nonce;
}

// Removed even from what the response sets: frameworks add it on their own.
const REMOVED = new Set(['x-powered-by']);
const UPPER = /[A-Z]/;

/**
 * The header objects made for one shape of the response's own headers (their names, in
 * order): ours with theirs in place, so each response clones it (one allocation on V8's
 * fast path) and writes its own values over existing slots, never adding a property.
 */
interface Shape {
  template: Record<string, string | readonly string[]> | undefined;
  readonly next: Map<string, Shape>;
}

interface Compiled {
  /** Every header of this setting; the CSP without a nonce. */
  readonly headers: Readonly<Record<string, string>>;
  /** The CSP header's name and its text split around the nonce, when it takes one. */
  readonly nonce: { readonly header: string; readonly parts: readonly string[] } | undefined;
  /** The templates by the response's own header names. Never handed out: cloned. */
  readonly shapes: Shape;
  /** How many shapes exist (bounded, see MAX_SHAPES). */
  size: number;
}

// Applications send a handful of header sets (content-type alone, plus cache-control, plus
// location...); past this many per setting, responses are merged without a template.
const MAX_SHAPES = 64;
// `overrides` often answers a fresh literal per request: its settings are remembered by what
// they say, like route metadata is by its object.
const MAX_OVERRIDES = 256;

/** The template of `names` over `headers`: a `{ ...headers, ...own }` with blank values. */
function templateOf(
  headers: Readonly<Record<string, string>>,
  names: readonly string[],
): Record<string, string | readonly string[]> {
  const template: Record<string, string | readonly string[]> = { ...headers };
  for (const name of names) template[name] = '';
  return template;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * `{ ...compiled.headers, [csp]: nonced, ...own }` (the response's own headers win) from the
 * template of own's names; undefined when own's names need the general merge (another case,
 * a header to remove), own is not a plain record, or there are too many shapes already.
 */
function mergedFast(
  compiled: Compiled,
  nonced: string | undefined,
  own: Readonly<Record<string, string | readonly string[]>>,
): Record<string, string | readonly string[]> | undefined {
  const prototype: unknown = Object.getPrototypeOf(own);
  // for...in sees inherited names too: only plain records take this path.
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  let shape = compiled.shapes;
  for (const name in own) {
    if (REMOVED.has(name) || UPPER.test(name)) return undefined;
    let next = shape.next.get(name);
    if (next === undefined) {
      if (compiled.size >= MAX_SHAPES) return undefined;
      next = { template: undefined, next: new Map() };
      shape.next.set(name, next);
      compiled.size += 1;
    }
    shape = next;
  }
  let template = shape.template;
  if (template === undefined) {
    const names: string[] = [];
    for (const name in own) names.push(name);
    template = templateOf(compiled.headers, names);
    shape.template = template;
  }
  const merged = { ...template };
  if (nonced !== undefined)
    merged[(compiled.nonce as NonNullable<Compiled['nonce']>).header] = nonced;
  for (const name in own) merged[name] = own[name] as string | readonly string[];
  return merged;
}

/**
 * Security headers on every response, errors and 404s included, on every adapter: helmet's
 * defaults tuned for an API. The `api` profile (default) sends
 * `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`,
 * `Strict-Transport-Security: max-age=31536000; includeSubDomains`,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Resource-Policy: same-origin`,
 * `X-Frame-Options: DENY`, `Origin-Agent-Cluster: ?1`, `X-DNS-Prefetch-Control: off`,
 * `X-Download-Options: noopen`, `X-Permitted-Cross-Domain-Policies: none`,
 * `X-XSS-Protection: 0`, and removes `X-Powered-By`. The `html` profile keeps the same and
 * swaps the CSP for one fit for pages ({@link HTML_CSP}), with the request's nonce
 * ({@link cspNonce}) when the page used one. A header the response sets itself wins; routes
 * change theirs with {@link routeSecurityHeaders}. Mount it first, so it has the last word.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for a bad directive, header or HSTS setting.
 * @example
 * const headers = securityHeadersPart(); // the API profile
 * const withDocs = securityHeadersPart({
 *   overrides: (request) => (request.path.startsWith('/docs') ? { profile: 'html' } : undefined),
 * });
 */
export function securityHeadersPart(options: SecurityHeadersOptions = {}): Part {
  const given = checkRouteHeaders('options', options);
  const all = check.object<SecurityHeadersOptions>('options', options);
  const name = check.string('name', all.name, 'security-headers', { nonEmpty: true });
  const reportOnly = check.boolean('reportOnly', all.reportOnly, false);
  const overrides = check.fn<(request: HttpRequest) => RouteSecurityHeaders | undefined>(
    'overrides',
    all.overrides,
  );
  let hsts: string | undefined;
  if (all.hsts !== false) {
    const settings =
      all.hsts === undefined || all.hsts === true
        ? {}
        : check.object<HstsOptions>('hsts', all.hsts);
    const maxAge = check.duration('hsts.maxAge', settings.maxAge, YEAR_MS, {
      max: 2 * YEAR_MS * 100,
    });
    const sub = check.boolean('hsts.includeSubDomains', settings.includeSubDomains, true);
    const preload = check.boolean('hsts.preload', settings.preload, false);
    if (preload && (!sub || maxAge < YEAR_MS)) {
      check.fail(
        'hsts.preload',
        'includeSubDomains and a maxAge of at least a year (preload rules)',
        preload,
      );
    }
    hsts = `max-age=${Math.floor(maxAge / 1000)}${sub ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}`;
  }
  const cspHeader = reportOnly ? 'content-security-policy-report-only' : 'content-security-policy';

  const baseline: Record<string, string> = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    ...(hsts === undefined ? {} : { 'strict-transport-security': hsts }),
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  };

  const compile = (settings: RouteSecurityHeaders, base: RouteSecurityHeaders): Compiled => {
    const profile = settings.profile ?? base.profile ?? 'api';
    const csp = settings.csp ?? base.csp;
    const headers: Record<string, string> = { ...baseline };
    let nonce: Compiled['nonce'];
    if (csp !== false) {
      const directives = mergeDirectives('csp', profile === 'html' ? HTML_CSP : API_CSP, csp);
      headers[cspHeader] = serializeCsp(directives, false);
      if (profile === 'html')
        nonce = { header: cspHeader, parts: serializeCsp(directives, true).split(NONCE_SLOT) };
    }
    for (const source of [base.headers, settings.headers]) {
      for (const [header, value] of Object.entries(source ?? {})) {
        const lower = header.toLowerCase();
        if (value === null) {
          delete headers[lower];
          if (lower === cspHeader) nonce = undefined;
        } else {
          headers[lower] = value;
          if (lower === cspHeader) nonce = undefined;
        }
      }
    }
    // Copied into a fresh object (the one above had deletions): the templates cloned per
    // response start from it.
    const fresh: Record<string, string> = {};
    for (const [header, value] of Object.entries(headers)) fresh[header] = value;
    return {
      headers: Object.freeze(fresh),
      nonce: nonce === undefined ? undefined : Object.freeze(nonce),
      shapes: { template: undefined, next: new Map() },
      size: 0,
    };
  };

  const partSettings = given;
  const standard = compile({}, partSettings);
  const compiled = new WeakMap<RouteSecurityHeaders, Compiled>();
  const bySettings = new Map<string, Compiled>();
  /**
   * The compiled headers of a route's settings (`fromRoute`: route metadata, one long-lived
   * object per route) or of what `overrides` answered (often a fresh literal per request).
   */
  const compiledFor = (settings: RouteSecurityHeaders, fromRoute: boolean): Compiled => {
    const found = compiled.get(settings);
    if (found !== undefined) return found;
    // Checked once, like route metadata is when a route is defined; a fresh literal that says
    // the same finds the same compiled headers by its content, without being remembered
    // itself (a weak entry per request would cost more than the lookup).
    const content = JSON.stringify(settings);
    let made = bySettings.get(content);
    if (made === undefined) {
      made = compile(checkRouteHeaders('overrides()', settings), partSettings);
      if (bySettings.size >= MAX_OVERRIDES) bySettings.clear();
      bySettings.set(content, made);
      compiled.set(settings, made);
    } else if (fromRoute) compiled.set(settings, made);
    return made;
  };

  return definePart({
    name,
    onSend(request, response): HttpResponse {
      const declared = securityHeadersMeta.read(request);
      const overridden = declared === undefined ? overrides?.(request) : undefined;
      const chosen =
        declared !== undefined
          ? compiledFor(declared, true)
          : overridden === undefined
            ? standard
            : compiledFor(overridden, false);
      const nonce = chosen.nonce === undefined ? undefined : nonces.get(request);
      const nonced = nonce === undefined ? undefined : chosen.nonce?.parts.join(nonce);
      const own = response.headers;
      let headers: Readonly<Record<string, string | readonly string[]>> | undefined =
        own === undefined && nonced === undefined
          ? chosen.headers
          : mergedFast(chosen, nonced, own ?? NO_HEADERS);
      if (headers === undefined) {
        // Names in another case, or a header to remove: the slow path, mostly native routes.
        const merged: Record<string, string | readonly string[]> = { ...chosen.headers };
        if (nonced !== undefined)
          merged[(chosen.nonce as NonNullable<Compiled['nonce']>).header] = nonced;
        for (const header in own) {
          const lower = header.toLowerCase();
          if (!REMOVED.has(lower))
            merged[lower] = (own as Record<string, string>)[header] as string;
        }
        headers = merged;
      }
      return { status: response.status, headers, body: response.body };
    },
  });
}
