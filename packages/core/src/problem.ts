/** One field-level problem, as listed in a problem's `errors` member. */
export interface FieldError {
  /** Where the problem is, as a JSON Pointer-like path (`/body/title`) or dotted path. */
  readonly path: string;
  readonly message: string;
  readonly code?: string;
}

/**
 * An RFC 9457 problem details object (`application/problem+json`).
 * Extension members sit beside the standard ones.
 */
export interface ProblemDetails {
  /** A URI reference naming the problem type; `about:blank` when absent. */
  readonly type: string;
  /** A short summary of the problem type, stable across occurrences. */
  readonly title: string;
  /** The HTTP status of this occurrence. */
  readonly status: number;
  /** A human explanation of this occurrence, only for errors the client can act on. */
  readonly detail?: string;
  /** A URI reference for this occurrence. */
  readonly instance?: string;
  /** The stable error code (extension). */
  readonly code: string;
  readonly requestId?: string;
  readonly traceId?: string;
  /** Field errors (extension), e.g. from validation. */
  readonly errors?: readonly FieldError[];
  /** Seconds after which a retry may succeed (extension; mirrored in `Retry-After`). */
  readonly retryAfter?: number;
  readonly [extension: string]: unknown;
}

/** The media type of {@link ProblemDetails}. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
