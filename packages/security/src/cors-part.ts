import {
  definePart,
  type HttpRequest,
  type HttpResponse,
  optionChecks,
  type Part,
  toHttpResponse,
} from '@prod/core';
import { SecurityErrors } from './errors.js';
import { isCorsPreflight, varyWith, withHeaders } from './internal/headers.js';
import { isHttpToken } from './internal/syntax.js';

/**
 * An allowed origin: an exact origin (`https://app.example.com`), a wildcard on subdomains
 * (`https://*.example.com`), an anchored RegExp (`/^https:\/\/[a-z]+\.example\.com$/`), or a
 * function of the origin (and the request).
 */
export type OriginRule = string | RegExp | ((origin: string, request: HttpRequest) => boolean);

/** Options of {@link corsPart}. */
export interface CorsPartOptions {
  /** The part's name. Default `cors`. */
  readonly name?: string;
  /**
   * Who may read responses from a browser: `*` (any origin, without credentials), or a list of
   * rules. An origin that matches none gets no CORS headers (its preflights a 403).
   */
  readonly origins: '*' | readonly OriginRule[];
  /**
   * Let browsers send cookies and HTTP auth and read the answers
   * (`Access-Control-Allow-Credentials: true`). Not with `origins: '*'`. Default false.
   */
  readonly credentials?: boolean;
  /** Methods a preflight may ask for. Default GET, HEAD, POST, PUT, PATCH, DELETE. */
  readonly methods?: readonly string[];
  /**
   * Request headers a preflight may ask for (case-insensitive), or `*` for any (without
   * credentials; `Authorization` is never covered by `*` in browsers, so it is listed).
   * Default: authorization, content-type, x-api-key, x-request-id, idempotency-key, if-match,
   * if-none-match.
   */
  readonly allowedHeaders?: '*' | readonly string[];
  /**
   * Response headers scripts may read beyond the safelisted ones. Default: ratelimit,
   * ratelimit-policy, retry-after, x-request-id.
   */
  readonly exposedHeaders?: readonly string[];
  /** How long a browser may cache a preflight answer, in ms (sent in seconds). Default 600 000. */
  readonly maxAge?: number;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const DEFAULT_METHODS = Object.freeze(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const DEFAULT_ALLOWED = Object.freeze([
  'authorization',
  'content-type',
  'x-api-key',
  'x-request-id',
  'idempotency-key',
  'if-match',
  'if-none-match',
]);
const DEFAULT_EXPOSED = Object.freeze([
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
  'x-request-id',
]);
// Fetch standard: these methods need no preflight permission, whatever the list says.
const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);
// An origin as a browser serializes it: scheme "://" host [":" port], lower-case, or "null".
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/(?:[a-z0-9-._~]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
const WILDCARD = /^([a-z][a-z0-9+.-]*):\/\/\*\.((?:[a-z0-9-]+\.)*[a-z0-9-]+)(:\d{1,5})?$/;
const MAX_REQUESTED_HEADERS = 64;
const VARY_PREFLIGHT = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

interface Matcher {
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly patterns: readonly RegExp[];
  readonly functions: readonly ((origin: string, request: HttpRequest) => boolean)[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compileOrigins(origins: unknown, credentials: boolean): Matcher {
  if (origins === '*') {
    if (credentials) {
      check.fail('origins', 'a list of origins when credentials are allowed (never "*")', origins);
    }
    return { any: true, exact: new Set(), patterns: [], functions: [] };
  }
  if (!Array.isArray(origins)) check.fail('origins', '"*" or a list of origin rules', origins);
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  const functions: ((origin: string, request: HttpRequest) => boolean)[] = [];
  for (const rule of origins as unknown[]) {
    if (typeof rule === 'function') {
      functions.push(rule as (origin: string, request: HttpRequest) => boolean);
    } else if (rule instanceof RegExp) {
      if (!rule.source.startsWith('^') || !rule.source.endsWith('$')) {
        check.fail(
          'origins',
          'RegExps anchored with ^ and $ (an unanchored one matches evil.com too)',
          String(rule),
        );
      }
      if (rule.global || rule.sticky) {
        check.fail(
          'origins',
          'RegExps without the g or y flag (they keep state between tests)',
          String(rule),
        );
      }
      patterns.push(rule);
    } else if (typeof rule === 'string') {
      const wildcard = WILDCARD.exec(rule);
      if (wildcard !== null) {
        const [, scheme, domain, port] = wildcard;
        patterns.push(
          new RegExp(
            `^${escapeRegExp(scheme ?? '')}://(?:[a-z0-9-]+\\.)+${escapeRegExp(domain ?? '')}${escapeRegExp(port ?? '')}$`,
          ),
        );
      } else if (rule === 'null' || ORIGIN.test(rule)) {
        exact.add(rule);
      } else {
        check.fail(
          'origins',
          'origins as browsers send them: scheme://host[:port], lower-case, no path or trailing slash',
          rule,
        );
      }
    } else {
      check.fail('origins', 'strings, RegExps or functions', rule);
    }
  }
  if (exact.size + patterns.length + functions.length === 0) {
    check.fail('origins', 'at least one origin rule (or "*")', origins);
  }
  return { any: false, exact, patterns, functions };
}

function tokenList(
  name: string,
  value: unknown,
  fallback: readonly string[],
  lower: boolean,
): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) check.fail(name, 'a list of names', value);
  const out: string[] = [];
  for (const entry of value as unknown[]) {
    if (!isHttpToken(entry)) check.fail(name, 'header or method names (RFC 9110 tokens)', entry);
    out.push(lower ? (entry as string).toLowerCase() : (entry as string));
  }
  return [...new Set(out)];
}

/**
 * CORS by the Fetch standard, for any adapter. Preflights (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) are answered in `onRequest`, before routing refuses the
 * method with a 405, for part routes and the application's own routes alike: 204 with
 * `Access-Control-Allow-Origin`, `-Methods`, `-Headers`, `-Max-Age` (and `-Credentials`), or a
 * 403 `SECURITY_CORS_REJECTED` problem saying which of the origin, the method or a header is
 * not allowed. Every other response (errors and 404s included) gets
 * `Access-Control-Allow-Origin` and `-Expose-Headers` when its origin is allowed, and
 * `Vary: Origin` whenever the answer depends on the origin, so a shared cache cannot hand one
 * origin's answer to another. Mount it first.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for an origin a browser never sends
 * (`https://example.com/`), an unanchored RegExp, `*` with credentials, or a bad name.
 * @example
 * const cors = corsPart({
 *   origins: ['https://app.example.com', 'https://*.preview.example.com'],
 *   credentials: true,
 * });
 */
export function corsPart(options: CorsPartOptions): Part {
  const given = check.object<CorsPartOptions>('options', options);
  const name = check.string('name', given.name, 'cors', { nonEmpty: true });
  const credentials = check.boolean('credentials', given.credentials, false);
  const matcher = compileOrigins(given.origins, credentials);
  const methods = tokenList('methods', given.methods, DEFAULT_METHODS, false);
  const allowedMethods = new Set(methods);
  const anyHeader = given.allowedHeaders === '*';
  if (anyHeader && credentials) {
    check.fail('allowedHeaders', 'a list of headers when credentials are allowed (never "*")', '*');
  }
  const allowedHeaders = new Set(
    anyHeader ? [] : tokenList('allowedHeaders', given.allowedHeaders, DEFAULT_ALLOWED, true),
  );
  const exposed = tokenList('exposedHeaders', given.exposedHeaders, DEFAULT_EXPOSED, true);
  const maxAge = Math.floor(
    check.duration('maxAge', given.maxAge, 600_000, { max: 86_400_000 }) / 1000,
  );
  // With "*" and no credentials every origin gets the same answer: it does not vary.
  const varies = !matcher.any;

  const allows = (origin: string, request: HttpRequest): boolean => {
    if (matcher.any) return true;
    if (matcher.exact.has(origin)) return true;
    // Rules only ever see origins a browser could send, so a function need not validate them.
    if (!ORIGIN.test(origin)) return false;
    for (const pattern of matcher.patterns) if (pattern.test(origin)) return true;
    for (const rule of matcher.functions) if (rule(origin, request) === true) return true;
    return false;
  };

  const shared: Record<string, string> = {};
  if (credentials) shared['access-control-allow-credentials'] = 'true';
  if (exposed.length > 0) shared['access-control-expose-headers'] = exposed.join(', ');
  const preflightShared: Record<string, string> = {
    'access-control-allow-methods': methods.join(', '),
    'access-control-max-age': String(maxAge),
  };
  if (credentials) preflightShared['access-control-allow-credentials'] = 'true';

  const reject = (
    request: HttpRequest,
    reason: 'origin' | 'method' | 'headers',
    message: string,
    details: Record<string, unknown>,
  ): HttpResponse => {
    const response = toHttpResponse(
      SecurityErrors.SECURITY_CORS_REJECTED({
        message,
        details: { reason, ...details },
        captureStack: false,
      }),
      request,
    );
    return withHeaders(response, { vary: VARY_PREFLIGHT });
  };

  const preflight = (request: HttpRequest): HttpResponse => {
    const origin = request.headers.origin as string;
    const method = request.headers['access-control-request-method'] as string;
    if (!allows(origin, request)) {
      return reject(request, 'origin', 'This origin may not call this API from a browser', {});
    }
    if (!isHttpToken(method) || (!allowedMethods.has(method) && !SAFELISTED_METHODS.has(method))) {
      return reject(request, 'method', 'This method is not allowed from other origins', {
        allowed: methods,
      });
    }
    const requested: string[] = [];
    const denied: string[] = [];
    const list = request.headers['access-control-request-headers'];
    if (list !== undefined) {
      for (const raw of list.split(',')) {
        const header = raw.trim().toLowerCase();
        if (header === '') continue;
        if (!isHttpToken(header) || requested.length >= MAX_REQUESTED_HEADERS) {
          return reject(request, 'headers', 'The requested headers are malformed or too many', {});
        }
        requested.push(header);
        // Fetch: "*" never covers Authorization, which must be named.
        const ok = anyHeader ? header !== 'authorization' : allowedHeaders.has(header);
        if (!ok) denied.push(header);
      }
    }
    if (denied.length > 0) {
      return reject(
        request,
        'headers',
        `These headers are not allowed from other origins: ${denied.join(', ')}`,
        {
          denied,
        },
      );
    }
    const headers: Record<string, string> = {
      ...preflightShared,
      'access-control-allow-origin': matcher.any ? '*' : origin,
      vary: VARY_PREFLIGHT,
    };
    if (requested.length > 0) headers['access-control-allow-headers'] = requested.join(', ');
    return { status: 204, headers };
  };

  return definePart({
    name,
    onRequest(request) {
      return isCorsPreflight(request) ? preflight(request) : undefined;
    },
    onSend(request, response) {
      // A preflight's answer (ours, or the 403) already says everything.
      if (isCorsPreflight(request)) return undefined;
      const origin = request.headers.origin;
      if (origin === undefined || !allows(origin, request)) {
        return varies
          ? withHeaders(response, { vary: varyWith(response.headers, 'Origin') })
          : undefined;
      }
      const extra: Record<string, string> = {
        ...shared,
        'access-control-allow-origin': matcher.any ? '*' : origin,
      };
      if (varies) extra.vary = varyWith(response.headers, 'Origin');
      return withHeaders(response, extra);
    },
  });
}
