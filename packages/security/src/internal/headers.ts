import type { HttpRequest, HttpResponse } from '@prod/core';

/** Whether a request is a CORS preflight (Fetch standard: OPTIONS with Origin and ACRM). */
export function isCorsPreflight(request: HttpRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

/** The value of a response header, whatever the case its name was set in. */
export function headerOf(
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
  name: string,
): string | readonly string[] | undefined {
  if (headers === undefined) return undefined;
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const key in headers) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

/**
 * `Vary` with `fields` added to what the response already varies on (`*` stays `*`), each
 * field once, compared case-insensitively.
 */
export function varyWith(
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
  fields: string,
): string {
  const existing = headerOf(headers, 'vary');
  if (existing === undefined || existing === '') return fields;
  const current = Array.isArray(existing) ? existing.join(', ') : (existing as string);
  if (current.trim() === '*') return '*';
  const seen = new Set(current.split(',').map((field) => field.trim().toLowerCase()));
  const added = fields.split(', ').filter((field) => !seen.has(field.toLowerCase()));
  return added.length === 0 ? current : `${current}, ${added.join(', ')}`;
}

/** The response with `extra` headers set over its own. */
export function withHeaders(
  response: HttpResponse,
  extra: Readonly<Record<string, string | readonly string[]>>,
): HttpResponse {
  return { ...response, headers: { ...response.headers, ...extra } };
}
