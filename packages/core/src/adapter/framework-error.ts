import {
  CoreErrors,
  type ErrorFactory,
  findForbiddenKey,
  isProdError,
  type ProdError,
} from '../index.js';
import { forbiddenKey } from './inspect-body.js';

type Factory = ErrorFactory<string>;

// body-parser / raw-body / co-body error types (Express and Koa).
const BODY_ERROR_TYPES: Readonly<Record<string, Factory>> = {
  'entity.too.large': CoreErrors.PAYLOAD_TOO_LARGE,
  'charset.unsupported': CoreErrors.UNSUPPORTED_MEDIA_TYPE,
  'encoding.unsupported': CoreErrors.UNSUPPORTED_MEDIA_TYPE,
  'request.aborted': CoreErrors.ABORTED,
  'request.size.invalid': CoreErrors.BAD_REQUEST,
  'parameters.too.many': CoreErrors.PAYLOAD_TOO_LARGE,
};

// Fastify's own error codes.
const FASTIFY_CODES: Readonly<Record<string, Factory>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: CoreErrors.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: CoreErrors.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_TYPE: CoreErrors.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_EMPTY_TYPE: CoreErrors.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: CoreErrors.BAD_REQUEST,
  FST_ERR_CTP_EMPTY_JSON_BODY: CoreErrors.MALFORMED_JSON,
  FST_ERR_CTP_INVALID_JSON_BODY: CoreErrors.MALFORMED_JSON,
  FST_ERR_BAD_URL: CoreErrors.BAD_REQUEST,
  // A path parameter longer than Fastify's maxParamLength matches no route.
  FST_ERR_MAX_PARAM_LENGTH: CoreErrors.NOT_FOUND,
};

// Framework errors that only carry an HTTP status (http-errors, ctx.throw, fastify).
const BY_STATUS: Readonly<Record<number, Factory>> = {
  400: CoreErrors.BAD_REQUEST,
  401: CoreErrors.UNAUTHORIZED,
  403: CoreErrors.FORBIDDEN,
  404: CoreErrors.NOT_FOUND,
  405: CoreErrors.METHOD_NOT_ALLOWED,
  409: CoreErrors.CONFLICT,
  413: CoreErrors.PAYLOAD_TOO_LARGE,
  415: CoreErrors.UNSUPPORTED_MEDIA_TYPE,
  422: CoreErrors.VALIDATION_FAILED,
  429: CoreErrors.RATE_LIMITED,
  503: CoreErrors.UNAVAILABLE,
  504: CoreErrors.TIMEOUT,
};

// A framework's 4xx message is shown to the client; a longer one likely quotes the input.
const MAX_MESSAGE = 200;

/**
 * Turns what a framework or body parser throws into the shared CoreErrors, so every
 * adapter answers the same code for the same failure. A 4xx keeps its message (frameworks
 * mark those safe to show); errors without a known type or status come back unchanged and
 * become INTERNAL (500) in `toHttpResponse`.
 */
export function toProdError(error: unknown): unknown {
  if (isProdError(error) || typeof error !== 'object' || error === null) return error;
  const fields = error as {
    type?: unknown;
    code?: unknown;
    status?: unknown;
    statusCode?: unknown;
    body?: unknown;
    message?: unknown;
  };
  if (fields.type === 'entity.parse.failed') return unparsableBody(fields.body, error);
  if (typeof fields.type === 'string') {
    const factory = BODY_ERROR_TYPES[fields.type];
    if (factory !== undefined) return factory({ cause: error });
  }
  if (typeof fields.code === 'string') {
    const factory = FASTIFY_CODES[fields.code];
    if (factory !== undefined) return factory({ cause: error });
  }
  const status = typeof fields.status === 'number' ? fields.status : fields.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status)) return error;
  // co-body marks a JSON syntax error (or a refused __proto__) with status 400 and the text.
  if (status === 400 && typeof fields.body === 'string' && error instanceof SyntaxError) {
    return unparsableBody(fields.body, error);
  }
  if (status < 400 || status > 599) return error;
  // Express and its router fail to decode a path parameter with the URIError, its message
  // quoting the parameter: answer without echoing it.
  if (status === 400 && error instanceof URIError) {
    return CoreErrors.BAD_REQUEST({
      message: 'The path is not valid percent-encoding',
      cause: error,
    });
  }
  const factory = BY_STATUS[status];
  if (status >= 500) return factory === undefined ? error : factory({ cause: error });
  const message =
    typeof fields.message === 'string' &&
    fields.message !== '' &&
    fields.message.length <= MAX_MESSAGE
      ? fields.message
      : undefined;
  const occurrence = { cause: error, ...(message === undefined ? {} : { message }) };
  if (factory !== undefined) return factory(occurrence);
  return statusError(status, occurrence);
}

function statusError(
  status: number,
  occurrence: { readonly cause: unknown; readonly message?: string },
): ProdError {
  const error = CoreErrors.BAD_REQUEST(occurrence);
  // Keep the framework's 4xx status (410, 406...) under the generic client-error code.
  Object.defineProperty(error, 'status', { value: status, enumerable: true });
  return error;
}

/**
 * The error for a body an application's parser failed to parse: FORBIDDEN_KEY when the text
 * is valid JSON (a parser refused a prototype key), else MALFORMED_JSON.
 */
function unparsableBody(text: unknown, cause: unknown): ProdError {
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
