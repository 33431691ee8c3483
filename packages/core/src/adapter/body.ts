import { CoreErrors, findForbiddenKey, type HttpRequest, type ProdError } from '../index.js';

/** `application/json` and `application/*+json`, with or without parameters. */
export const JSON_MEDIA_TYPE: RegExp = /^application\/(?:[\w.!#$%&'*^`|~-]+\+)?json\s*(?:;|$)/i;

/** Whether a content-type is `application/json` or `application/*+json`. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_MEDIA_TYPE.test(contentType);
}

/** A neutral route takes JSON bodies only: anything else is UNSUPPORTED_MEDIA_TYPE (415). */
export function assertJsonBody(request: HttpRequest, hasBody: boolean): void {
  if (hasBody && !isJsonContentType(request.headers['content-type'])) {
    throw CoreErrors.UNSUPPORTED_MEDIA_TYPE({
      message: 'Send the body as application/json',
      details: { accepted: ['application/json', 'application/*+json'] },
    });
  }
}

/** Rejects a parsed body holding `__proto__` or `constructor.prototype` (FORBIDDEN_KEY, 400). */
export function assertNoForbiddenKey(body: unknown): void {
  const path = findForbiddenKey(body);
  if (path !== undefined) throw forbiddenKey(path);
}

/** The FORBIDDEN_KEY error for a key found at `path`. */
export function forbiddenKey(path: string): ProdError {
  return CoreErrors.FORBIDDEN_KEY({
    message: 'The body holds a key that could pollute object prototypes',
    details: { path },
  });
}

/**
 * The error for a body that failed to parse: FORBIDDEN_KEY when the text is valid JSON (a
 * parser refused a prototype key), else MALFORMED_JSON.
 */
export function unparsableBody(text: unknown, cause: unknown): ProdError {
  if (typeof text === 'string') {
    try {
      const path = findForbiddenKey(JSON.parse(text));
      if (path !== undefined) return forbiddenKey(path);
    } catch {
      // Not JSON at all: malformed.
    }
  }
  return CoreErrors.MALFORMED_JSON({ message: 'The body is not valid JSON', cause });
}
