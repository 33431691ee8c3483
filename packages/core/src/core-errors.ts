import { defineErrors } from './define-errors.js';

/**
 * The codes every package and adapter shares: the generic failures and the HTTP-level
 * rejections that an adapter produces before any feature code runs.
 */
export const CoreErrors = defineErrors({
  INTERNAL: { status: 500, title: 'Internal Server Error' },
  TIMEOUT: { status: 504, title: 'Timed out', retryable: true },
  ABORTED: { status: 499, title: 'Aborted' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable', retryable: true },
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  FORBIDDEN_KEY: { status: 400, title: 'Forbidden key in request body' },
  INVALID_TEXT: { status: 400, title: 'Text that cannot be stored' },
  MALFORMED_ENCODING: { status: 400, title: 'Malformed content encoding' },
  VALIDATION_FAILED: { status: 422, title: 'Validation failed' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', retryable: true },
});
