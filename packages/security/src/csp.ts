import { createHash } from 'node:crypto';
import { optionChecks } from '@prod/core';
import { SecurityErrors } from './errors.js';

/**
 * Content-Security-Policy directives by their names (`script-src`), each a list of sources
 * (`'self'`, `https://cdn.example.com`, a `cspHash(...)`); an empty list for a directive with
 * no value (`upgrade-insecure-requests`); `null` to drop a directive of the profile.
 */
export type CspDirectives = Readonly<Record<string, readonly string[] | null>>;

/** The API profile: nothing may load, nothing may frame the response. */
export const API_CSP: CspDirectives = Object.freeze({
  'default-src': Object.freeze(["'none'"]),
  'frame-ancestors': Object.freeze(["'none'"]),
});

/**
 * The HTML profile, for the pages a service serves itself (API docs, a dashboard): same-origin
 * resources, no plugins, no `<base>` rewriting, no framing, no inline event handlers; inline
 * scripts and styles run only with the request's nonce (`cspNonce`) or a listed hash
 * (`cspHash`).
 */
export const HTML_CSP: CspDirectives = Object.freeze({
  'default-src': Object.freeze(["'self'"]),
  'base-uri': Object.freeze(["'none'"]),
  'object-src': Object.freeze(["'none'"]),
  'frame-ancestors': Object.freeze(["'none'"]),
  'form-action': Object.freeze(["'self'"]),
  'img-src': Object.freeze(["'self'", 'data:']),
  'font-src': Object.freeze(["'self'"]),
  'style-src': Object.freeze(["'self'"]),
  'script-src': Object.freeze(["'self'"]),
  'script-src-attr': Object.freeze(["'none'"]),
});

const check = optionChecks(SecurityErrors.SECURITY_INVALID_OPTIONS);
const DIRECTIVE = /^[a-z][a-z-]*$/;
// A source expression may hold neither a separator of directives nor of sources, nor controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point.
const SOURCE = /^[^\s;,\x00-\x1f\x7f]+$/;
/** Where the nonce goes in a compiled policy. */
export const NONCE_SLOT = '\u0000nonce\u0000';
const NONCE_DIRECTIVES = new Set(['script-src', 'style-src']);

/**
 * The hash source of an inline script or style for a CSP (`'sha256-...'`): list it in
 * `script-src` (or `style-src`) and that exact text runs, even on a cached page, with no nonce.
 *
 * @example
 * const boot = "window.docs = { url: '/openapi.json' };";
 * const headers = securityHeadersPart({ profile: 'html', csp: { 'script-src': ["'self'", cspHash(boot)] } });
 */
export function cspHash(
  content: string,
  algorithm: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  if (typeof content !== 'string')
    throw SecurityErrors.SECURITY_INVALID_OPTIONS('cspHash: content must be a string');
  if (!['sha256', 'sha384', 'sha512'].includes(algorithm)) {
    throw SecurityErrors.SECURITY_INVALID_OPTIONS(
      'cspHash: the algorithm must be sha256, sha384 or sha512',
    );
  }
  return `'${algorithm}-${createHash(algorithm).update(content, 'utf8').digest('base64')}'`;
}

/** The profile's directives with `overrides` applied (a `null` drops one), checked. */
export function mergeDirectives(
  name: string,
  base: CspDirectives,
  overrides: unknown,
): CspDirectives {
  if (overrides === undefined) return base;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    check.fail(name, 'an object of directives, or false', overrides);
  }
  const merged: Record<string, readonly string[]> = {};
  for (const [directive, sources] of Object.entries(base))
    if (sources !== null) merged[directive] = sources;
  for (const [directive, sources] of Object.entries(overrides as Record<string, unknown>)) {
    if (!DIRECTIVE.test(directive))
      check.fail(`${name}.${directive}`, 'a directive name such as script-src', directive);
    if (sources === null) {
      delete merged[directive];
      continue;
    }
    if (
      !Array.isArray(sources) ||
      !sources.every((source) => typeof source === 'string' && SOURCE.test(source))
    ) {
      check.fail(
        `${name}.${directive}`,
        'a list of source expressions without spaces, ";" or ","',
        sources,
      );
    }
    merged[directive] = Object.freeze([...(sources as string[])]);
  }
  return Object.freeze(merged);
}

/**
 * The policy as header text; with `nonce`, `script-src` and `style-src` also hold
 * {@link NONCE_SLOT}, to be replaced by each request's nonce.
 */
export function serializeCsp(directives: CspDirectives, nonce: boolean): string {
  const parts: string[] = [];
  for (const [directive, sources] of Object.entries(directives)) {
    if (sources === null) continue;
    const all =
      nonce && NONCE_DIRECTIVES.has(directive) ? [...sources, `'nonce-${NONCE_SLOT}'`] : sources;
    parts.push(all.length === 0 ? directive : `${directive} ${all.join(' ')}`);
  }
  return parts.join('; ');
}
