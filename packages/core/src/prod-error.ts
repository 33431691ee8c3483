import type { FieldError, ProblemDetails } from './problem.js';
import { statusText } from './status-text.js';

const BRAND: unique symbol = Symbol.for('@prod/core/ProdError') as never;

/** How to build a {@link ProdError}. Only `code` is required. */
export interface ProdErrorOptions<TCode extends string = string> {
  /** Stable SCREAMING_SNAKE code, namespaced by package (`CACHE_UNAVAILABLE`). */
  readonly code: TCode;
  /** What happened in this occurrence. Defaults to the title. */
  readonly message?: string;
  /** HTTP status. Default 500. */
  readonly status?: number;
  /** Short summary of the error type, stable across occurrences. Default: the status text. */
  readonly title?: string;
  /** Whether trying again may succeed. Default false. */
  readonly retryable?: boolean;
  /** Structured data that is safe to show to the client of a 4xx. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Field-level errors, e.g. from validation; shown as the problem's `errors`. */
  readonly errors?: readonly FieldError[];
  /** The error that caused this one; kept for logs, never sent to clients. */
  readonly cause?: unknown;
  /** When a retry may succeed, in milliseconds (becomes `Retry-After`). */
  readonly retryAfterMs?: number;
  /** Whether `message` and `details` may reach a client. Default: `status < 500`. */
  readonly expose?: boolean;
  /** A problem type URI. Default: `urn:prod:problem:<code>`. */
  readonly type?: string;
  /** Capture a stack trace. Default true; turn off on hot expected-failure paths. */
  readonly captureStack?: boolean;
}

/** What `toJSON()` gives: everything a log needs, including the cause chain and stack. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly status?: number;
  readonly retryable?: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly errors?: readonly FieldError[];
  readonly stack?: string;
  readonly cause?: SerializedError;
}

/** Where a problem is being rendered: lets it name the occurrence. */
export interface ProblemOptions {
  // `| undefined` so that adapters can pass `currentContext()?.requestId` as it comes.
  readonly requestId?: string | undefined;
  readonly traceId?: string | undefined;
  /** Overrides `instance`; default `urn:request:<requestId>` when a request id is known. */
  readonly instance?: string | undefined;
}

/** Fallbacks for {@link ProdError.from} when the thrown value says nothing better. */
export interface FromOptions {
  readonly code?: string;
  readonly status?: number;
  readonly message?: string;
  readonly retryable?: boolean;
}

const MAX_CAUSE_DEPTH = 8;
// How far `from` looks down a cause chain for a system code (`fetch failed` -> ECONNREFUSED).
const MAX_SYSTEM_CODE_DEPTH = 4;

// Node network errors that mean "the other side is not there right now": worth a retry.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ENOTCONN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/**
 * The one error type of @prod: a stable `code`, an HTTP `status`, `retryable`, safe
 * `details` and a native `cause`, convertible to RFC 9457 problem details.
 *
 * Recognize it with {@link isProdError}, never `instanceof`: dual ESM/CJS builds and
 * duplicate installs make several class identities.
 *
 * @example
 * throw new ProdError({ code: 'NOTE_NOT_FOUND', status: 404, message: 'No note 42' });
 */
export class ProdError<TCode extends string = string> extends Error {
  declare readonly [BRAND]: true;
  readonly code: TCode;
  readonly status: number;
  readonly title: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly errors: readonly FieldError[] | undefined;
  readonly retryAfterMs: number | undefined;
  readonly expose: boolean;
  readonly type: string | undefined;

  constructor(options: ProdErrorOptions<TCode>) {
    // A status outside 400-599 would make a broken response; an error is at least a 500.
    const status = isErrorStatus(options.status) ? options.status : 500;
    const title = options.title ?? statusText(status);
    const limit = Error.stackTraceLimit;
    if (options.captureStack === false) Error.stackTraceLimit = 0;
    if (options.cause === undefined) super(options.message ?? title);
    else super(options.message ?? title, { cause: options.cause });
    if (options.captureStack === false) Error.stackTraceLimit = limit;
    this.code = options.code;
    this.status = status;
    this.title = title;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
    this.errors = options.errors;
    this.retryAfterMs = options.retryAfterMs;
    this.expose = options.expose ?? status < 500;
    this.type = options.type;
  }

  /**
   * Normalizes anything thrown into a ProdError, keeping the original as `cause`.
   *
   * A ProdError comes back as is. `AbortError` becomes `ABORTED`, `TimeoutError` and
   * `ETIMEDOUT` become `TIMEOUT` (retryable), Node network errors such as `ECONNREFUSED`
   * become `UNAVAILABLE` (retryable), anything else `INTERNAL` (or `fallback`). System codes
   * are also looked for a few levels down the cause chain, where `fetch` puts them.
   * Titles match {@link CoreErrors}. Never throws, whatever `thrown` is.
   */
  static from(thrown: unknown, fallback: FromOptions = {}): ProdError {
    if (isProdError(thrown)) return thrown;
    const name = readString(thrown, 'name');
    const systemCode = findSystemCode(thrown);
    const message =
      readString(thrown, 'message') ?? (typeof thrown === 'string' ? thrown : undefined);
    // Titles are spelled as in CoreErrors (a test keeps them equal): importing the catalogue
    // here would make a module cycle.
    if (name === 'AbortError') {
      return new ProdError({
        code: 'ABORTED',
        status: 499,
        title: 'Aborted',
        message: message ?? 'Aborted',
        cause: thrown,
      });
    }
    if (name === 'TimeoutError' || (systemCode !== undefined && TIMEOUT_CODES.has(systemCode))) {
      return new ProdError({
        code: 'TIMEOUT',
        status: 504,
        title: 'Timed out',
        retryable: true,
        message: message ?? 'Timed out',
        cause: thrown,
      });
    }
    if (systemCode !== undefined && UNAVAILABLE_CODES.has(systemCode)) {
      return new ProdError({
        code: 'UNAVAILABLE',
        status: 503,
        title: 'Service unavailable',
        retryable: true,
        message: message ?? systemCode,
        details: { systemCode },
        cause: thrown,
      });
    }
    return new ProdError({
      code: fallback.code ?? 'INTERNAL',
      status: fallback.status ?? 500,
      retryable: fallback.retryable ?? false,
      message: fallback.message ?? message ?? 'Unknown error',
      cause: thrown,
    });
  }

  /** For logs: code, status, details, stack and the cause chain (bounded, cycle-safe). */
  toJSON(): SerializedError {
    return serialize(this, 0, new Set());
  }

  /**
   * For clients: an RFC 9457 problem. Never includes stack or cause; the message and
   * details of an unexposed (5xx by default) error are left out.
   */
  toProblem(options: ProblemOptions = {}): ProblemDetails {
    const problem: Record<string, unknown> = {
      type: this.type ?? `urn:prod:problem:${this.code}`,
      title: this.title,
      status: this.status,
      code: this.code,
    };
    if (this.expose) {
      if (this.message !== this.title) problem.detail = this.message;
      if (this.details !== undefined) problem.details = this.details;
      if (this.errors !== undefined) problem.errors = this.errors;
    }
    const instance =
      options.instance ??
      (options.requestId !== undefined ? `urn:request:${options.requestId}` : undefined);
    if (instance !== undefined) problem.instance = instance;
    if (options.requestId !== undefined) problem.requestId = options.requestId;
    if (options.traceId !== undefined) problem.traceId = options.traceId;
    if (this.retryAfterMs !== undefined && Number.isFinite(this.retryAfterMs)) {
      problem.retryAfter = Math.max(0, Math.ceil(this.retryAfterMs / 1000));
    }
    return problem as unknown as ProblemDetails;
  }
}

Object.defineProperty(ProdError.prototype, BRAND, { value: true });
Object.defineProperty(ProdError.prototype, 'name', {
  value: 'ProdError',
  writable: true,
  configurable: true,
});

/**
 * Tells whether a value is a ProdError (from any copy of @prod/core), optionally with a code.
 */
export function isProdError(value: unknown): value is ProdError;
export function isProdError<TCode extends string>(
  value: unknown,
  code: TCode,
): value is ProdError<TCode>;
export function isProdError(value: unknown, code?: string): value is ProdError {
  if (typeof value !== 'object' || value === null) return false;
  try {
    if ((value as { [BRAND]?: unknown })[BRAND] !== true) return false;
    return code === undefined || (value as ProdError).code === code;
  } catch {
    // A revoked Proxy or a throwing getter: a guard answers, it does not throw.
    return false;
  }
}

function isErrorStatus(status: number | undefined): status is number {
  return status !== undefined && Number.isInteger(status) && status >= 400 && status <= 599;
}

function readString(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    const found = (value as Record<string, unknown>)[key];
    return typeof found === 'string' ? found : undefined;
  } catch {
    return undefined;
  }
}

function readCause(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    return (value as { cause?: unknown }).cause;
  } catch {
    return undefined;
  }
}

function findSystemCode(thrown: unknown): string | undefined {
  let node = thrown;
  for (let depth = 0; depth <= MAX_SYSTEM_CODE_DEPTH && node !== undefined; depth++) {
    const code = readString(node, 'code');
    if (code !== undefined && (TIMEOUT_CODES.has(code) || UNAVAILABLE_CODES.has(code))) {
      return code;
    }
    node = readCause(node);
  }
  return undefined;
}

function serialize(error: unknown, depth: number, seen: Set<unknown>): SerializedError {
  try {
    return serializeNode(error, depth, seen);
  } catch {
    // A revoked Proxy or a throwing getter in the chain: logging must not throw.
    return { name: 'unknown', message: '[unserializable]' };
  }
}

function serializeNode(error: unknown, depth: number, seen: Set<unknown>): SerializedError {
  seen.add(error);
  if (!(error instanceof Error) && !isProdError(error)) {
    return { name: typeof error, message: typeof error === 'string' ? error : safeString(error) };
  }
  const out: {
    -readonly [K in keyof SerializedError]: SerializedError[K];
  } = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (isProdError(error)) {
    out.status = error.status;
    out.retryable = error.retryable;
    if (error.details !== undefined) out.details = error.details;
    if (error.errors !== undefined) out.errors = error.errors;
  }
  if (error.stack !== undefined) out.stack = error.stack;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH && !seen.has(cause)) {
    out.cause = serialize(cause, depth + 1, seen);
  }
  return out;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    try {
      return String(value);
    } catch {
      return '[unserializable]';
    }
  }
}
