import { currentContext } from './context.js';
import { CoreErrors } from './core-errors.js';
import type { HttpRequest, HttpResponse } from './http.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { ProdError } from './prod-error.js';
import { isSafeRequestId } from './request-id.js';

/**
 * Turns any error into a neutral `application/problem+json` response (RFC 9457).
 *
 * Details: the error goes through `ProdError.from`, so an unknown throw becomes a 500
 * `INTERNAL` whose message, details and stack never reach the body; a ProdError keeps its
 * status and code, and shows its message only when `expose` (4xx by default). A ProdError
 * whose status is not a 4xx/5xx is answered as `INTERNAL` too. The request id and trace id
 * come from `currentContext()` (else a safe `x-request-id` header of `request`). Headers:
 * `content-type: application/problem+json`, `cache-control: no-store`, and `retry-after`
 * (seconds) when the error has `retryAfterMs`.
 *
 * @example
 * toHttpResponse(new Error('db password is hunter2'));
 * // { status: 500, body: { type: 'urn:prod:problem:INTERNAL', title: 'Internal Server Error', status: 500, code: 'INTERNAL' }, ... }
 */
export function toHttpResponse(error: unknown, request?: HttpRequest): HttpResponse {
  let problemError = ProdError.from(error);
  if (!isErrorStatus(problemError.status)) {
    problemError = CoreErrors.INTERNAL({ cause: error, captureStack: false });
  }
  const context = currentContext();
  const requestId = context?.requestId ?? requestIdHeader(request);
  const traceId = context?.traceId;
  const body = problemError.toProblem({
    ...(requestId === undefined ? {} : { requestId }),
    ...(typeof traceId === 'string' ? { traceId } : {}),
  });
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
  };
  const retryAfterMs = problemError.retryAfterMs;
  if (typeof retryAfterMs === 'number' && retryAfterMs >= 0 && Number.isFinite(retryAfterMs)) {
    headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  }
  return { status: problemError.status, headers, body };
}

function isErrorStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}

function requestIdHeader(request: HttpRequest | undefined): string | undefined {
  const header = request?.headers?.['x-request-id'];
  return isSafeRequestId(header) ? header : undefined;
}
