import { definePart, type HttpRequest, type Part, toHttpResponse } from '@prod/core';
import type { CaptureContext } from './error-aggregator.js';
import { check } from './internal/options.js';

/** Options of {@link errorPart}. */
export interface ErrorPartOptions {
  /** Where to record errors (an {@link ErrorAggregator}, or anything with `capture`). */
  readonly aggregator?: { capture(error: unknown, context?: CaptureContext): unknown };
  /** Which responses to record, by status. Default: 5xx only. */
  readonly captureIf?: (status: number) => boolean;
  /** Part name. Default `'errors'`. */
  readonly name?: string;
}

/**
 * A part whose `onError` answers every error with {@link toHttpResponse}, and optionally
 * records server errors in an aggregator. Mount it last, so that more specific error
 * handlers run first.
 *
 * @example
 * import express from 'express';
 * import { mountExpress } from '@prod/express';
 * declare const routesPart: Part;
 * const app = express();
 * const aggregator = new ErrorAggregator({ sinks: [logSink()] });
 * mountExpress(app, { parts: [routesPart, errorPart({ aggregator })] });
 */
export function errorPart(options: ErrorPartOptions = {}): Part {
  const given = check.object<ErrorPartOptions>('options', options);
  const aggregator = given.aggregator;
  if (aggregator !== undefined && typeof aggregator?.capture !== 'function') {
    check.fail('aggregator', 'an ErrorAggregator (anything with capture())', aggregator);
  }
  const captureIf =
    check.fn<(status: number) => boolean>('captureIf', given.captureIf) ??
    ((status: number) => status >= 500);
  return definePart({
    name: check.string('name', given.name, 'errors', { nonEmpty: true }),
    onError(error: unknown, request: HttpRequest) {
      const response = toHttpResponse(error, request);
      if (aggregator !== undefined && captureIf(response.status)) {
        const body = response.body as { requestId?: string };
        aggregator.capture(error, {
          ...(body.requestId === undefined ? {} : { requestId: body.requestId }),
          ...(request.route === undefined ? {} : { route: request.route }),
        });
      }
      return response;
    },
  });
}
