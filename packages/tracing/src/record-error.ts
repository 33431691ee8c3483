import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { isProdError, type ProdError } from '@prod/core';
import { ATTR_ERROR_TYPE, clip, ERROR_TYPE_OTHER } from './internal/semconv.js';

const MAX_DESCRIPTION = 1024;

/** How {@link recordError} classifies an error. */
export interface RecordErrorOptions {
  /**
   * The error was thrown rather than returned: always recorded as a failure, whatever its
   * status (bugs are thrown). Default false.
   */
  readonly thrown?: boolean;
  /** The kind of the span, which decides how a returned 4xx ProdError counts. Default INTERNAL. */
  readonly kind?: SpanKind;
  /**
   * Whether a returned ProdError is a failure of the operation the span describes.
   * Default: `status >= 500`, or `status >= 400` on a CLIENT span (as the OpenTelemetry HTTP
   * conventions classify status codes).
   */
  readonly isError?: (error: ProdError) => boolean;
}

/**
 * Records an error on a span following the OpenTelemetry conventions for errors.
 *
 * **Details**
 * - A ProdError always sets `error.type` to its `code`. When it counts as a failure (thrown,
 *   5xx, or 4xx on a CLIENT span, see {@link RecordErrorOptions.isError}) it also adds an
 *   `exception` event and sets the status to ERROR with the code as description.
 * - A returned 4xx ProdError on any other span kind is an expected outcome (a lookup that
 *   found nothing, a rejected input): status stays UNSET and no exception event is added.
 * - Anything else (a thrown `TypeError`, a non-ProdError `Err`) is a failure: `error.type` is
 *   the error's `name` (`_OTHER` for non-errors), an exception event, status ERROR with its
 *   message.
 *
 * **Gotchas**: never throws, even for a hostile thrown value whose getters throw: recording
 * must not hide the caller's own error.
 *
 * @example
 * declare const span: Span;
 * declare function loadNote(id: string): Promise<Result<string, ProdError>>;
 * const result = await loadNote('42');
 * if (!result.ok) recordError(span, result.error);
 */
export function recordError(span: Span, error: unknown, options: RecordErrorOptions = {}): void {
  try {
    if (isProdError(error)) {
      span.setAttribute(ATTR_ERROR_TYPE, error.code);
      if (options.thrown !== true && !(options.isError ?? defaultIsError(options.kind))(error)) {
        return;
      }
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
      return;
    }
    if (error instanceof Error) {
      span.setAttribute(ATTR_ERROR_TYPE, typeof error.name === 'string' ? error.name : 'Error');
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: describe(error.message) });
      return;
    }
    span.setAttribute(ATTR_ERROR_TYPE, ERROR_TYPE_OTHER);
    const message = describe(error);
    span.recordException(message);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  } catch {
    // A tracer or a thrown value misbehaving must not replace the caller's error.
  }
}

function defaultIsError(kind: SpanKind | undefined): (error: ProdError) => boolean {
  return kind === SpanKind.CLIENT ? isClientError : isServerError;
}

function isServerError(error: ProdError): boolean {
  return error.status >= 500;
}

function isClientError(error: ProdError): boolean {
  return error.status >= 400;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return clip(value, MAX_DESCRIPTION);
  try {
    return clip(JSON.stringify(value) ?? String(value), MAX_DESCRIPTION);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
