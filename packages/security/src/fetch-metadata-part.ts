import { definePart, type HttpRequest, optionChecks, type Part, toHttpResponse } from '@prod/core';
import { SecurityErrors } from './errors.js';

/** Options of {@link fetchMetadataPart}. */
export interface FetchMetadataOptions {
  /** The part's name. Default `fetch-metadata`. */
  readonly name?: string;
  /** Origins allowed to send unsafe requests from another site (`https://admin.example.com`). */
  readonly trustedOrigins?: readonly string[];
  /**
   * Allow `Sec-Fetch-Site: same-site` (a sibling subdomain). Default false: a subdomain an
   * attacker controls (user content, a forgotten CNAME) is same-site.
   */
  readonly allowSameSite?: boolean;
  /**
   * Which requests are protected. Default: every request with an unsafe method. Narrow it to
   * cookie-authenticated ones with `(request) => request.headers.cookie !== undefined`, or leave
   * out a webhook receiver.
   */
  readonly applies?: (request: HttpRequest) => boolean;
}

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/;

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Cross-site request forgery protection from fetch metadata, the modern defense (the algorithm
 * of Go's `http.CrossOriginProtection`): an unsafe request (POST, PUT, PATCH, DELETE...) is
 * refused with 403 `SECURITY_CROSS_SITE_REQUEST` when the browser says it comes from another
 * site (`Sec-Fetch-Site: cross-site`, or `same-site` unless allowed) or, from a browser that does
 * not send fetch metadata, when its `Origin` names another host than `Host`. Requests without
 * either header (curl, servers, old browsers) pass: they carry no ambient cookies of a victim.
 * It needs no token and no state. Mount it before the parts that act on a request.
 *
 * @throws `SECURITY_INVALID_OPTIONS` for a trusted origin a browser never sends.
 * @example
 * const csrf = fetchMetadataPart({ applies: (request) => request.headers.cookie !== undefined });
 */
export function fetchMetadataPart(options: FetchMetadataOptions = {}): Part {
  const given = check.object<FetchMetadataOptions>('options', options);
  const name = check.string('name', given.name, 'fetch-metadata', { nonEmpty: true });
  const trusted = new Set<string>();
  const list = given.trustedOrigins ?? [];
  if (!Array.isArray(list)) check.fail('trustedOrigins', 'a list of origins', list);
  for (const origin of list) {
    if (typeof origin !== 'string' || !ORIGIN.test(origin)) {
      check.fail(
        'trustedOrigins',
        'origins as browsers send them: scheme://host[:port], no path',
        origin,
      );
    }
    trusted.add(origin);
  }
  const allowSameSite = check.boolean('allowSameSite', given.allowSameSite, false);
  const applies = check.fn<(request: HttpRequest) => boolean>('applies', given.applies);

  const refuse = (request: HttpRequest, message: string) =>
    toHttpResponse(
      SecurityErrors.SECURITY_CROSS_SITE_REQUEST({ message, captureStack: false }),
      request,
    );

  return definePart({
    name,
    onRequest(request) {
      if (SAFE_METHODS.has(request.method)) return undefined;
      if (applies !== undefined && applies(request) !== true) return undefined;
      const origin = request.headers.origin;
      if (origin !== undefined && trusted.has(origin)) return undefined;
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined) {
        if (site === 'same-origin' || site === 'none' || (allowSameSite && site === 'same-site')) {
          return undefined;
        }
        return refuse(request, `A ${site} request may not ${request.method} here`);
      }
      if (origin === undefined) return undefined;
      const host = request.headers.host;
      if (origin !== 'null' && host !== undefined && hostOf(origin) === host.toLowerCase())
        return undefined;
      return refuse(request, 'A request from another origin may not change anything here');
    },
  });
}
