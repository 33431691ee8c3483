// The grammars this package reads and writes. Anything that ends up in a header (a scope in a
// WWW-Authenticate challenge, an origin in Access-Control-Allow-Origin) is checked against
// them first, so a value from configuration or a store can never inject a header parameter.

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/** Whether `value` is a scope token (RFC 6749), at most 128 characters. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Whether `value` is a `b64token`, the syntax of a bearer credential. */
export function isB64Token(value: string): boolean {
  return B64_TOKEN.test(value);
}

// An HTTP token (RFC 9110 section 5.6.2): header and method names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `value` is an RFC 9110 token (a method or header name). */
export function isHttpToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

// Printable text without controls: owner names, tiers, key names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point.
const PRINTABLE = /^[^\x00-\x1f\x7f]+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `value` is 1 to `max` characters without control characters or unpaired surrogates
 * (text every store keeps as it is).
 */
export function isPrintable(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length <= max &&
    PRINTABLE.test(value) &&
    !LONE_SURROGATE.test(value)
  );
}
